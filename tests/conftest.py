pytest_plugins = ["tests.sandbox_plugin", "pytest_jupyter.jupyter_server", "tests.server_plugin"]
