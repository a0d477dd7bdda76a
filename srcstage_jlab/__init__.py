"""srcstage-jlab: stage SRCNet data next to your JupyterLab kernel.

In a notebook::

    import srcstage_jlab as srcstage

    c = srcstage.collection("my-analysis")       # create or open
    c.add("ska-mid:obs-2026-0001", "ska-mid:obs-2026-0002")
    job = c.stage(lifetime="7d")                 # submits the collection DID first
    job.wait(progress=True)
    for path in job.paths():
        print(path)

`srcstage.widget()` gives the same in a small ipywidgets panel. Everything here
talks to this JupyterLab's server extension; SRCNet tokens never reach the kernel.
"""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"

from .client import *  # noqa: F403  (the public Python API)
from .client import __all__ as _client_all


def require(*args, **kwargs):
    """Stage the given DIDs, or the data the running notebook declares, and wait (see `srcstage_jlab.declared`)."""
    from .declared import require as _require

    return _require(*args, **kwargs)


def widget(*args, **kwargs):
    """An ipywidgets panel to search, collect and stage data (see `srcstage_jlab.widgets`)."""
    from .widgets import widget as _widget

    return _widget(*args, **kwargs)


__all__ = [*_client_all, "require", "widget", "__version__"]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "srcstage-jlab"}]


def _jupyter_server_extension_points():
    from .app import SrcStage

    return [{"module": "srcstage_jlab", "app": SrcStage}]
