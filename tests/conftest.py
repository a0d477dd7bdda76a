import pytest

pytest_plugins = ["tests.sandbox_plugin", "pytest_jupyter.jupyter_server", "tests.server_plugin"]

# Fixtures that start (or need) the local SRCNet sandbox; a test using any of them, directly or
# through another fixture, is marked `sandbox`, so `pytest -m "not sandbox and not browser"`
# is the fast lane.
SANDBOX_FIXTURES = {"sandbox", "confirmed_sandbox"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SANDBOX_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.sandbox)
