"""How a job's progress is shown while waiting for it, and how often it is read."""

from __future__ import annotations

import html
import sys
from typing import Any

from .. import messages
from .models import JobStatus, format_progress

# An ipywidgets bar_style for each phase the server decides; the wait bar and the panel share it.
PHASE_STYLES = {"active": "info", "completed": "success", "failed": "danger", "unknown": "warning"}
DEFAULT_POLL_S = 2.0
POLL_CLAMP_S = (0.2, 5.0)


def poll_interval(config: Any) -> float:
    """Seconds between status reads: the server's ``poll_interval_s``, kept within :data:`POLL_CLAMP_S`."""
    value = config.get("poll_interval_s") if isinstance(config, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return DEFAULT_POLL_S
    low, high = POLL_CLAMP_S
    return max(low, min(high, float(value)))


class NoProgress:
    """A progress display that shows nothing. Displays have ``update``, ``note`` and ``close``;
    one whose ``stopped`` turns true ends the wait early (a panel that stopped following)."""

    stopped = False

    def update(self, status: JobStatus) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def close(self, status: JobStatus | None = None) -> None:
        pass


class TextProgress(NoProgress):
    """A one-line text bar rewritten in place with ``\\r`` (terminals, plain scripts)."""

    def __init__(self, stream: Any = None, label: str = ""):
        self.stream = stream or sys.stderr
        self.label = label
        self._width = 0
        self._open = False

    def _write(self, line: str) -> None:
        line = (self.label + " " if self.label else "") + line
        pad = max(0, self._width - len(line))
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()
        self._width = len(line)
        self._open = True

    def update(self, status: JobStatus) -> None:
        self._write(format_progress(status))

    def note(self, text: str) -> None:
        self._write(text)

    def close(self, status: JobStatus | None = None) -> None:
        if status is not None:
            self.update(status)
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False


class WidgetProgress(NoProgress):
    """An ipywidgets IntProgress and a label, displayed in the cell's output."""

    def __init__(self, label: str = "", description: str = "Staging"):
        import ipywidgets as w
        from IPython.display import display

        self.bar = w.IntProgress(value=0, min=0, max=1000, description=description, bar_style="info")
        self.bar.add_class("srcstage-wait-progress")
        self.text = w.HTML(value=label)
        self.text.add_class("srcstage-wait-state")
        self.box = w.HBox([self.bar, self.text])
        display(self.box)

    def update(self, status: JobStatus) -> None:
        show_on_bar(self.bar, status)
        self.text.value = html.escape(format_progress(status, width=0))

    def note(self, text: str) -> None:
        self.text.value = html.escape(text)

    def close(self, status: JobStatus | None = None) -> None:
        if status is not None:
            self.update(status)


def show_on_bar(bar: Any, status: JobStatus) -> None:
    """Set an ipywidgets IntProgress (``max=1000``) from a status: its fraction and its phase's style."""
    bar.value = int(round((status.fraction or 0.0) * 1000))
    bar.bar_style = PHASE_STYLES.get(status.phase, "warning")


def _in_kernel() -> bool:
    if "IPython" not in sys.modules:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def make_progress(progress: Any, label: str = "", description: str = "Staging") -> NoProgress:
    """The display for ``wait(progress=...)``: True, ``"text"``, ``"widget"``, a stream, a display, or False."""
    if isinstance(progress, NoProgress):
        return progress
    if not progress:
        return NoProgress()
    if progress == "text":
        return TextProgress(label=label)
    if progress == "widget" or (progress is True and _in_kernel()):
        try:
            return WidgetProgress(label, description)
        except Exception:  # no ipywidgets / no display: fall back to text
            if progress == "widget":
                raise
    if hasattr(progress, "write"):
        return TextProgress(progress, label=label)
    return TextProgress(label=label)


# --- a download's progress (download mode), read from GET /srcstage/downloads ----------------------

DOWNLOAD_POLL_S = 1.0


def download_status(download: dict, final: dict | None = None) -> JobStatus:
    """A download as a :class:`JobStatus`, so it shows in the job bar's style; ``final`` is the
    ``downloaded`` part of the paths answer once it is over."""
    progress = {k: download.get(k) for k in ("files_total", "files_done", "bytes_total", "bytes_done")}
    if final is None:
        return JobStatus({"state": "downloading", "phase": "active", "progress": progress})
    failed = len(final.get("failed") or {})
    state = messages.DOWNLOADED_STATE.format(
        reused=final.get("reused", 0), refetched=final.get("refetched", 0), failed=failed
    )
    return JobStatus({"state": state, "phase": "failed" if failed else "completed", "progress": progress})


def fetching(download: dict) -> bool:
    """True once the download moves bytes over the network (all files reused: nothing to show)."""
    return (download.get("bytes_done") or 0) > (download.get("bytes_reused") or 0) or bool(download.get("failed"))


class DownloadWatch:
    """Fed each ``GET /downloads?did=`` answer while ``paths()`` waits; shows a bar only once the
    DID's download fetches something (mount mode, or every file reused: no display at all)."""

    def __init__(self, did: str, progress: Any = True):
        self.did = did
        self.choice = progress
        self.display: NoProgress | None = None
        self.last: dict | None = None

    def seen(self, answer: Any) -> None:
        for download in (answer or {}).get("downloads") or []:
            if download.get("did") != self.did or not download.get("running"):
                continue  # an earlier, finished download of the DID is not this one
            self.last = download
            if self.display is None and fetching(download):
                self.display = make_progress(self.choice, label=f"{self.did}:", description=messages.DOWNLOAD_BAR_LABEL)
            if self.display is not None:
                self.display.update(download_status(download))

    def close(self, answer: dict | None) -> None:
        """The paths answer (None when it failed): the bar's last line says what was done."""
        if self.display is None:
            return
        final = (answer or {}).get("downloaded")
        if final is not None and self.last is not None:
            last = dict(
                self.last, files_done=len((answer or {}).get("paths") or []), bytes_done=self.last["bytes_total"]
            )
            if final.get("failed"):
                last["bytes_done"] = self.last.get("bytes_done")
            self.display.close(download_status(last, final))
        else:
            self.display.close(None)
