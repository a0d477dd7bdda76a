"""An ipywidgets panel to search SRCNet, build a collection, stage it and watch the job.

``srcstage.widget()`` (or ``collection.widget()``) returns a :class:`StagePanel`; show it by making
it a cell's last expression. Everything it does goes through :mod:`srcstage_jlab.client`, so what
it makes is what the sidebar shows. While a job runs, the panel follows it with the same wait as
``Job.wait`` (shown on the panel instead of a bar of its own), run as an asyncio task on the kernel's
event loop, or in a thread when no loop runs.

Each part has a CSS class for browser tests and styling: ``srcstage-namespace``,
``srcstage-name-pattern``, ``srcstage-type``, ``srcstage-search-button``, ``srcstage-results``,
``srcstage-add-button``, ``srcstage-collection-name``, ``srcstage-open-button``,
``srcstage-collection-dids``, ``srcstage-remove-button``, ``srcstage-lifetime-value``,
``srcstage-lifetime-unit``, ``srcstage-stage-button``, ``srcstage-stage-target``, ``srcstage-progress``,
``srcstage-state``, ``srcstage-error`` and ``srcstage-info``; the panel itself has ``srcstage-panel``.
The job actions under the progress bar, shown for a job they apply to: ``srcstage-extend-lifetime``,
``srcstage-extend-button`` and ``srcstage-release-button`` (a job that holds or makes a copy),
``srcstage-retry-button`` (a failed one), and ``srcstage-job-actions-why``, the one line saying why
extend or release is hidden where the Data Management API does not serve them.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from . import messages
from .client import Client, Collection, Job, JobStatus, SrcStageError, get_client
from .kernel.errors import InvalidInputError, StagingFailed, format_detail, who_said
from .kernel.models import format_progress, human_bytes
from .kernel.progress import NoProgress, show_on_bar
from .kernel.transport import Op

__all__ = ["widget", "StagePanel"]

DEFAULT_COLLECTION = "my-collection"
UNITS = [("hours", "h"), ("days", "d"), ("weeks", "w")]


def widget(collection: Any = None, *, client: Client | None = None) -> StagePanel:
    """An ipywidgets panel: search DIDs, add them to a collection, remove them, choose a lifetime,
    stage, and watch the job's progress; errors show our message and SRCNet's detail.

    ``collection``: a :class:`~srcstage_jlab.client.Collection`, a collection name (opened or
    created), or None (the newest collection, or a new one named on first use).
    """
    return StagePanel(collection, client=client)


def _css(widget_: w.DOMWidget, name: str) -> w.DOMWidget:
    widget_.add_class(name)
    return widget_


def _error_html(err: BaseException) -> str:
    if isinstance(err, SrcStageError):
        text = f"<b>{html.escape(err.message)}</b>"
        if err.detail not in (None, "", [], {}):
            text += f"<br>{html.escape(messages.WIDGET_SAID.format(who=who_said(err.service)))} <code>{html.escape(format_detail(err.detail))}</code>"
        if err.hint and err.hint not in err.message:
            text += f"<br><i>{html.escape(err.hint)}</i>"
        return f'<div class="srcstage-error-text" style="color: var(--jp-error-color1, #d32f2f)">{text}</div>'
    return (
        f'<div class="srcstage-error-text" style="color: var(--jp-error-color1, #d32f2f)">'
        f"<b>{messages.WIDGET_UNEXPECTED_ERROR}</b> {html.escape(type(err).__name__)}: {html.escape(str(err))}</div>"
    )


def _split_lifetime(seconds: int | None) -> tuple[int, str]:
    seconds = seconds or 7 * 86400
    if seconds % 604800 == 0:
        return seconds // 604800, "w"
    if seconds % 86400 == 0:
        return seconds // 86400, "d"
    return max(1, -(-seconds // 3600)), "h"


class StagePanel(w.VBox):
    """The staging panel (an ipywidgets ``VBox``). See :func:`widget`.

    Useful attributes: ``collection`` (the open :class:`~srcstage_jlab.client.Collection` or None),
    ``job`` (the last staging :class:`~srcstage_jlab.client.Job`), ``watcher`` (the asyncio task or
    thread following it), and the parts: ``namespace``, ``pattern``, ``did_type``, ``search_button``,
    ``results``, ``add_button``, ``collection_name``, ``open_button``, ``collection_dids``,
    ``remove_button``, ``lifetime_value``, ``lifetime_unit``, ``stage_button``, ``stage_target``, ``progress``,
    ``state``, ``error``, ``info``, and the job actions ``extend_lifetime``, ``extend_button``,
    ``release_button``, ``retry_button`` and ``actions_why`` (in the row ``job_actions``).
    """

    def __init__(self, collection: Any = None, *, client: Client | None = None):
        self.client = client or (collection._client if isinstance(collection, Collection) else get_client())
        self.collection: Collection | None = None
        self.job: Job | None = None
        self.watcher: asyncio.Task | threading.Thread | None = None
        self._display: _PanelDisplay | None = None

        self.header = _css(w.HTML(value=f"<b>{messages.WIDGET_TITLE}</b>"), "srcstage-header")
        self.namespace = _css(w.Dropdown(description=messages.WIDGET_LABEL_NAMESPACE, options=[]), "srcstage-namespace")
        self.pattern = _css(
            w.Text(description=messages.WIDGET_LABEL_NAME, value="*", placeholder=messages.WIDGET_PLACEHOLDER_PATTERN),
            "srcstage-name-pattern",
        )
        self.did_type = _css(
            w.Dropdown(
                description=messages.WIDGET_LABEL_TYPE, options=["all", "file", "dataset", "container"], value="all"
            ),
            "srcstage-type",
        )
        self.search_button = _css(
            w.Button(description=messages.WIDGET_LABEL_SEARCH, icon="search", tooltip=messages.WIDGET_TIP_SEARCH),
            "srcstage-search-button",
        )
        self.results = _css(
            w.SelectMultiple(
                description=messages.WIDGET_LABEL_RESULTS, options=[], rows=8, layout=w.Layout(width="95%")
            ),
            "srcstage-results",
        )
        self.add_button = _css(
            w.Button(description=messages.WIDGET_LABEL_ADD, icon="plus", tooltip=messages.WIDGET_TIP_ADD),
            "srcstage-add-button",
        )
        self.collection_name = _css(
            w.Combobox(
                description=messages.WIDGET_LABEL_COLLECTION,
                options=[],
                ensure_option=False,
                placeholder=DEFAULT_COLLECTION,
                layout=w.Layout(width="auto", flex="0 1 36em", min_width="18em"),
            ),
            "srcstage-collection-name",
        )
        self.open_button = _css(
            w.Button(description=messages.WIDGET_LABEL_OPEN, icon="folder-open", tooltip=messages.WIDGET_TIP_OPEN),
            "srcstage-open-button",
        )
        self.collection_dids = _css(
            w.SelectMultiple(description=messages.WIDGET_LABEL_DIDS, options=[], rows=6, layout=w.Layout(width="95%")),
            "srcstage-collection-dids",
        )
        self.remove_button = _css(
            w.Button(description=messages.WIDGET_LABEL_REMOVE, icon="minus", tooltip=messages.WIDGET_TIP_REMOVE),
            "srcstage-remove-button",
        )
        self.lifetime_value = _css(
            w.BoundedIntText(
                description=messages.WIDGET_LABEL_LIFETIME, value=7, min=1, max=100000, layout=w.Layout(width="14em")
            ),
            "srcstage-lifetime-value",
        )
        self.lifetime_unit = _css(
            w.Dropdown(options=UNITS, value="d", layout=w.Layout(width="7em")), "srcstage-lifetime-unit"
        )
        self.stage_button = _css(
            w.Button(
                description=messages.WIDGET_LABEL_STAGE,
                icon="download",
                button_style="primary",
                tooltip=messages.WIDGET_TIP_STAGE,
            ),
            "srcstage-stage-button",
        )
        # What Stage acts on, next to it (the button keeps its short label).
        self.stage_target = _css(w.HTML(value="", layout=w.Layout(margin="0 0 0 8px")), "srcstage-stage-target")
        self.progress = _css(
            w.IntProgress(description=messages.WIDGET_LABEL_PROGRESS, value=0, min=0, max=1000), "srcstage-progress"
        )
        self.state = _css(w.HTML(value=""), "srcstage-state")
        self.error = _css(w.HTML(value=""), "srcstage-error")
        self.info = _css(w.HTML(value=""), "srcstage-info")
        self.extend_lifetime = _css(
            w.Text(
                description=messages.WIDGET_LABEL_KEEP_FOR,
                value="14d",
                placeholder=messages.WIDGET_PLACEHOLDER_KEEP_FOR,
                layout=w.Layout(width="14em"),
            ),
            "srcstage-extend-lifetime",
        )
        self.extend_button = _css(
            w.Button(description=messages.WIDGET_LABEL_EXTEND, icon="clock-o", tooltip=messages.WIDGET_TIP_EXTEND),
            "srcstage-extend-button",
        )
        self.release_button = _css(
            w.Button(description=messages.WIDGET_LABEL_RELEASE, icon="times", tooltip=messages.WIDGET_TIP_RELEASE),
            "srcstage-release-button",
        )
        self.retry_button = _css(
            w.Button(description=messages.WIDGET_LABEL_RETRY, icon="refresh", tooltip=messages.WIDGET_TIP_RETRY),
            "srcstage-retry-button",
        )
        self.actions_why = _css(w.HTML(value=""), "srcstage-job-actions-why")
        self.job_actions = w.HBox(
            [self.extend_lifetime, self.extend_button, self.release_button, self.retry_button, self.actions_why],
            layout=w.Layout(align_items="center"),
        )
        # What the DM serves ({action: {available, why}}), from /srcstage/config; refined by a refusal.
        self._served: dict[str, dict] = {}

        self.search_button.on_click(lambda _b: self._guard(self.search))
        self.add_button.on_click(lambda _b: self._guard(self.add_selected))
        self.open_button.on_click(lambda _b: self._guard(lambda: self.open_collection(self.collection_name.value)))
        self.remove_button.on_click(lambda _b: self._guard(self.remove_selected))
        self.stage_button.on_click(lambda _b: self._guard(self.stage))
        self.extend_button.on_click(lambda _b: self._guard(lambda: self.extend(self.extend_lifetime.value)))
        self.release_button.on_click(lambda _b: self._guard(self.release))
        self.retry_button.on_click(lambda _b: self._guard(self.retry))

        super().__init__(
            children=[
                self.header,
                w.HBox([self.namespace, self.pattern, self.did_type, self.search_button]),
                self.results,
                self.add_button,
                w.HBox([self.collection_name, self.open_button]),
                self.collection_dids,
                self.remove_button,
                w.HBox(
                    [self.lifetime_value, self.lifetime_unit, self.stage_button, self.stage_target],
                    layout=w.Layout(align_items="center"),
                ),
                w.HBox([self.progress, self.state]),
                self.job_actions,
                self.error,
                self.info,
            ]
        )
        self.add_class("srcstage-panel")
        self._show_actions(None)
        self._guard(lambda: self._load(collection))

    # --- set-up ---------------------------------------------------------------------

    def _load(self, collection: Any) -> None:
        config = self.client.config()
        self._served = dict((config.get("capabilities") or {}).get("job_actions") or {})
        value, unit = _split_lifetime(config.get("default_lifetime_s"))
        self.lifetime_value.value, self.lifetime_unit.value = value, unit
        try:
            session = self.client.session()
            who = (
                messages.WIDGET_SIGNED_IN_AS.format(who=html.escape(session.name or session.username or "?"))
                if session.signed_in
                else messages.WIDGET_NOT_SIGNED_IN
            )
        except SrcStageError as err:
            who = html.escape(err.message)
        self.header.value = f"<b>{messages.WIDGET_TITLE}</b> &middot; {who}"
        if isinstance(collection, Collection):
            self._set_collection(collection)
        elif isinstance(collection, str):
            self.open_collection(collection)
        existing = self.client.collections()
        self.collection_name.options = [c.name for c in existing]
        if collection is None and existing:
            self._set_collection(existing[-1])
        names = self.client.namespaces()  # needs SRCNet: last, so a failure leaves the rest usable
        self.namespace.options = list(names)
        if names:
            self.namespace.value = "ska-mid" if "ska-mid" in names else names[0]
        self._find_running_job()

    # --- actions (the buttons call these; scripts may too) ------------------------------

    def search(self) -> None:
        """Search DIDs with the namespace, name pattern and type chosen; fill the results."""
        if not self.namespace.value:
            raise _invalid(messages.WIDGET_CHOOSE_NAMESPACE)
        found = self.client.search(self.namespace.value, self.pattern.value or "*", self.did_type.value)
        self.results.options = [
            (f"{d.did}  ({d.type or '?'}{', ' + human_bytes(d.bytes) if d.bytes is not None else ''})", d.did)
            for d in found
        ]
        more = messages.WIDGET_ONLY_FIRST.format(limit=found.limit) if found.truncated else ""
        self._say(messages.WIDGET_FOUND.format(count=len(found), s="s" if len(found) != 1 else "", more=more))

    def add_selected(self) -> None:
        """Add the selected results to the collection (opening or creating it first)."""
        chosen = list(self.results.value)
        if not chosen:
            raise _invalid(messages.WIDGET_SELECT_RESULTS)
        collection = self._ensure_collection()
        collection.add(chosen)
        self._show_collection()
        self._say(
            messages.WIDGET_ADDED.format(count=len(chosen), s="s" if len(chosen) != 1 else "", name=collection.name)
        )

    def open_collection(self, name: str | None) -> Collection:
        """Open (or create) the collection called ``name`` and show its DIDs."""
        name = (name or "").strip() or DEFAULT_COLLECTION
        collection = self.client.collection(name)
        self._set_collection(collection)
        self._find_running_job()
        return collection

    def remove_selected(self) -> None:
        """Remove the selected DIDs from the collection."""
        chosen = list(self.collection_dids.value)
        if not chosen or self.collection is None:
            raise _invalid(messages.WIDGET_SELECT_TO_REMOVE)
        self.collection.remove(chosen)
        self._show_collection()
        self._say(messages.WIDGET_REMOVED.format(count=len(chosen), s="s" if len(chosen) != 1 else ""))

    def lifetime(self) -> str:
        """The lifetime chosen, as the API takes it (e.g. ``"7d"``)."""
        return f"{self.lifetime_value.value}{self.lifetime_unit.value}"

    def stage(self) -> Job:
        """Stage the collection with the lifetime chosen and follow the job in the background."""
        collection = self._ensure_collection()
        if not collection.dids:
            raise _invalid(messages.WIDGET_COLLECTION_EMPTY.format(collection=collection))
        self.stage_button.disabled = True
        try:
            job = collection.stage(lifetime=self.lifetime())
        finally:
            self.stage_button.disabled = False
        self._show_collection()
        self.follow(job)
        return job

    def extend(self, lifetime: Any) -> Job:
        """Keep the current job's staged copy ``lifetime`` from now (e.g. ``"14d"``; the cap applies)."""
        job = self._job_for("extend")
        self._act("extend", lambda: job.extend(lifetime))
        self._say(messages.WIDGET_KEPT_UNTIL.format(until=job.raw.get("expires_at") or "?", job_id=job.id))
        return job

    def release(self) -> Job:
        """Give the current job's staged copy back now (its files may then go)."""
        job = self._job_for("release")
        self.stop()
        self._act("release", job.release)
        self._say(messages.WIDGET_RELEASED.format(job_id=job.id))
        return job

    def retry(self) -> Job:
        """Stage the current (failed) job's DIDs again and follow the new job."""
        job = self._job_for("retry")
        new = self._act("retry", job.retry)
        self.follow(new)
        return new

    def follow(self, job: Job) -> None:
        """Show ``job``'s progress, updated in the background until it ends."""
        self.stop()
        self.job = job
        self.error.value = ""  # what went wrong before was about another job
        self._show_status(job.last_status)
        self._display = _PanelDisplay(self)
        watch = self._g_watch(job, self._display)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self.watcher = loop.create_task(self.client._arun(watch))
        else:
            self.watcher = threading.Thread(
                target=self.client._run, args=(watch,), daemon=True, name=f"srcstage-watch-{job.id}"
            )
            self.watcher.start()

    def stop(self) -> None:
        """Stop following the current job (the job itself goes on)."""
        if self._display is not None:
            self._display.stopped = True
        if isinstance(self.watcher, asyncio.Task) and not self.watcher.done():
            self.watcher.cancel()

    def join(self, timeout: float | None = None) -> None:
        """Block until a background thread following the job ends (scripts and tests)."""
        if isinstance(self.watcher, threading.Thread):
            self.watcher.join(timeout)

    # --- following a job ------------------------------------------------------------------

    def _g_watch(self, job: Job, display: _PanelDisplay) -> Op:
        """The one watcher: ``Job.wait`` shown on the panel, then the staged files."""
        try:
            status = yield from job._op_wait(progress=display)
            if status.done and not display.stopped:
                self._show_paths((yield from job._op_paths()))
        except StagingFailed:
            pass  # the failed status is on show already
        except SrcStageError as err:
            self.error.value = _error_html(err)

    def _applies(self, action: str, phase: str | None) -> bool:
        """Whether ``action`` applies to a job in ``phase`` (as on the sidebar's job card)."""
        if action == "retry":
            return phase == "failed" and not (self.job and self.job.raw.get("retried_by"))
        return phase in ("active", "completed")

    def _show_actions(self, phase: str | None) -> None:
        """Show the actions that apply to the current job; hide with one line why the DM does not serve."""
        buttons = {"extend": self.extend_button, "release": self.release_button, "retry": self.retry_button}
        hidden_why = []
        for action, button in buttons.items():
            applies = self._applies(action, phase)
            served = self._served.get(action, {}).get("available") is not False
            button.layout.display = "" if applies and served else "none"
            if applies and not served:
                hidden_why.append(self._served[action].get("why") or messages.WIDGET_NOT_SERVED.format(action=action))
        self.extend_lifetime.layout.display = self.extend_button.layout.display
        self.actions_why.value = (
            f'<span style="color: var(--jp-ui-font-color2)">{html.escape(" ".join(dict.fromkeys(hidden_why)))}</span>'
            if hidden_why
            else ""
        )
        shown = any(b.layout.display != "none" for b in buttons.values()) or hidden_why
        self.job_actions.layout.display = "" if shown else "none"

    def _job_for(self, action: str) -> Job:
        if self.job is None:
            raise _invalid(messages.WIDGET_NO_JOB)
        phase = self.job.last_status.phase
        if not self._applies(action, phase):
            raise _invalid(messages.WIDGET_ACTION_NOT_APPLICABLE.format(action=action.capitalize(), phase=phase))
        return self.job

    def _act(self, action: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SrcStageError as err:
            if err.code == "not_served":  # learnt now: hide it, with the DM's reason
                self._served[action] = {"available": False, "why": err.message}
            raise
        finally:
            if self.job is not None:
                self._show_status(self.job.last_status)

    def _show_status(self, status: JobStatus) -> None:
        self._show_actions(status.phase)
        show_on_bar(self.progress, status)
        job = self.job.id if self.job else status.job_id
        self.state.value = (
            f'<span class="srcstage-state-text">{html.escape(format_progress(status, width=0))}'
            f" &middot; {messages.WIDGET_JOB} <code>{html.escape(str(job))}</code></span>"
        )
        if status.failed:
            message = messages.WIDGET_STAGING_FAILED.format(state=status.state)
            if status.error is not None:
                self.error.value = _error_html(status.error)
            else:
                self.error.value = _error_html(SrcStageError(message))

    def _show_paths(self, paths: list[str]) -> None:
        shown = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in paths[:5])
        more = f"<li>{messages.WIDGET_AND_MORE.format(count=len(paths) - 5)}</li>" if len(paths) > 5 else ""
        self.info.value = (
            messages.WIDGET_STAGED_FILES.format(
                count=len(paths),
                s="s" if len(paths) != 1 else "",
                shown=shown,
                more=more,
                job_id=html.escape(self.job.id),
            )
            if self.job
            else ""
        )

    def _find_running_job(self) -> None:
        if self.collection is None:
            return
        running = [j for j in self.collection.jobs() if j.phase in ("active", "unknown")]
        if running:
            self.follow(running[0])

    # --- helpers ----------------------------------------------------------------------------

    def _ensure_collection(self) -> Collection:
        if self.collection is None or (self.collection_name.value or "").strip() not in ("", self.collection.name):
            self.open_collection(self.collection_name.value)
        assert self.collection is not None
        return self.collection

    def _set_collection(self, collection: Collection) -> None:
        self.collection = collection
        if collection.name not in self.collection_name.options:
            self.collection_name.options = [*self.collection_name.options, collection.name]
        self.collection_name.value = collection.name
        self._show_collection()

    def _show_collection(self) -> None:
        c = self.collection
        if c is None:
            self.collection_dids.options = []
            self.stage_target.value = ""
            self.stage_button.tooltip = messages.WIDGET_TIP_STAGE
            return
        entries = list(c.entries)
        self.collection_dids.options = [
            (f"{e.did}  ({e.type or '?'}{', ' + human_bytes(e.bytes) if e.bytes is not None else ''})", e.did)
            for e in entries
        ]
        count = len(entries)
        self.stage_button.tooltip = messages.WIDGET_TIP_STAGE_NAMED.format(name=c.name)
        self.stage_target.value = (
            '<span style="color: var(--jp-ui-font-color2)">'
            + messages.WIDGET_STAGE_TARGET.format(count=count, s="s" if count != 1 else "", name=html.escape(c.name))
            + "</span>"
        )

    def _say(self, text: str) -> None:
        self.info.value = html.escape(text)

    def _guard(self, action: Callable[[], Any]) -> Any:
        """Run a button's action; show any failure in the error area instead of raising."""
        self.error.value = ""
        try:
            return action()
        except Exception as err:
            self.error.value = _error_html(err)
            return None


def _invalid(message: str) -> SrcStageError:
    return InvalidInputError(message)


class _PanelDisplay(NoProgress):
    """``Job.wait``'s progress display for a panel: its bar, state label and error area."""

    def __init__(self, panel: StagePanel):
        self.panel = panel
        self.stopped = False

    def update(self, status: JobStatus) -> None:
        if not self.stopped:
            self.panel._show_status(status)

    def note(self, text: str) -> None:
        if not self.stopped:
            self.panel.error.value = _error_html(SrcStageError(text))
