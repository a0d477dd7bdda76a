"""The ipywidgets panel against a real `jupyter lab` with the extension and the sandbox.

The panel is driven the way a person would (set values, click buttons); its actions go over
real HTTP. Without a kernel, ipywidgets uses a dummy comm, which is all these tests need; the
demo notebook test covers the panel inside a real kernel.
"""

from __future__ import annotations

import asyncio
import time

import ipywidgets
import pytest

import srcstage_jlab as srcstage
from srcstage_jlab.widgets import StagePanel

CLASSES = [
    "srcstage-panel",
    "srcstage-namespace",
    "srcstage-name-pattern",
    "srcstage-type",
    "srcstage-search-button",
    "srcstage-results",
    "srcstage-add-button",
    "srcstage-collection-name",
    "srcstage-open-button",
    "srcstage-collection-dids",
    "srcstage-remove-button",
    "srcstage-lifetime-value",
    "srcstage-lifetime-unit",
    "srcstage-stage-button",
    "srcstage-progress",
    "srcstage-state",
    "srcstage-error",
    "srcstage-info",
]


@pytest.fixture
def client(srcstage_server):
    c = srcstage.connect(srcstage_server.url, srcstage_server.token)
    yield c
    c.close()


def all_widgets(root):
    yield root
    for child in getattr(root, "children", ()):
        yield from all_widgets(child)


def by_class(panel, name):
    (found,) = [x for x in all_widgets(panel) if name in x._dom_classes]
    return found


def unique(prefix):
    return f"{prefix} {time.time_ns()}"


def search_and_add(panel, pattern, pick):
    panel.namespace.value = "ska-mid"
    panel.pattern.value = pattern
    panel.did_type.value = "file"
    by_class(panel, "srcstage-search-button").click()
    assert panel.error.value == "", panel.error.value
    values = [v for _label, v in panel.results.options]
    assert set(pick) <= set(values), values
    panel.results.value = tuple(pick)
    by_class(panel, "srcstage-add-button").click()
    assert panel.error.value == "", panel.error.value


def test_every_part_is_there_with_its_css_class(client):
    panel = srcstage.widget(unique("classes"))
    assert isinstance(panel, StagePanel) and isinstance(panel, ipywidgets.VBox)
    for name in CLASSES:
        by_class(panel, name)
    assert isinstance(by_class(panel, "srcstage-progress"), ipywidgets.IntProgress)
    assert isinstance(by_class(panel, "srcstage-results"), ipywidgets.SelectMultiple)
    assert "signed in as Demo Astronomer" in panel.header.value
    assert "ska-mid" in panel.namespace.options
    # The server's default lifetime (7 days) is preselected.
    assert (panel.lifetime_value.value, panel.lifetime_unit.value) == (1, "w")
    panel.collection.delete()


def test_search_add_remove_stage_and_watch(client, sandbox):
    name = unique("widget flow")
    panel = srcstage.widget(name)
    assert panel.collection.name == name and panel.collection_name.value == name
    files = ["ska-mid:obs-2026-0003.vis-01.csv", "ska-mid:obs-2026-0003.vis-02.csv"]
    search_and_add(panel, "obs-2026-0003.vis-0*", files)
    assert [v for _l, v in panel.collection_dids.options] == files
    assert srcstage.collection(name, create=False).dids == files  # the server has it (so has the sidebar)

    panel.collection_dids.value = (files[1],)
    by_class(panel, "srcstage-remove-button").click()
    assert [v for _l, v in panel.collection_dids.options] == files[:1]

    panel.lifetime_value.value, panel.lifetime_unit.value = 1, "d"
    by_class(panel, "srcstage-stage-button").click()
    assert panel.error.value == "", panel.error.value
    assert panel.job is not None and panel.job.lifetime_s == 86400
    assert panel.watcher is not None  # no running loop here: a thread follows the job
    panel.join(120)
    assert panel.progress.value == panel.progress.max and panel.progress.bar_style == "success"
    assert "COMPLETED" in panel.state.value and panel.job.id in panel.state.value
    assert "Staged 1 file" in panel.info.value and sandbox.local_area["directory"] in panel.info.value
    assert srcstage.job(panel.job.id).status().done


def test_errors_show_our_message_and_srcnet_detail(client, sandbox):
    panel = srcstage.widget(unique("widget errors"))
    by_class(panel, "srcstage-add-button").click()  # nothing selected
    assert "Select one or more results" in panel.error.value

    by_class(panel, "srcstage-stage-button").click()  # empty collection
    assert "is empty" in panel.error.value

    panel.collection.add("ska-mid:deep-field-cube")  # 80 MiB: over the demo user's quota
    panel.open_collection(panel.collection.name)
    panel.lifetime_value.value, panel.lifetime_unit.value = 1, "d"
    by_class(panel, "srcstage-stage-button").click()
    assert "quota" in panel.error.value.lower() and "Stage less" in panel.error.value  # refused before any DID
    assert panel.job is None

    panel.lifetime_value.value = sandbox.max_stage_lifetime_s // 86400 + 5
    by_class(panel, "srcstage-stage-button").click()
    assert "longer than" in panel.error.value

    panel.error.value = ""
    panel.namespace.value = "ska-mid"
    panel.pattern.value = "has space*"
    by_class(panel, "srcstage-search-button").click()
    assert panel.error.value == "" or "srcstage-error-text" in panel.error.value


def test_collection_widget_opens_that_collection(client):
    c = srcstage.collection(unique("from a collection")).add("ska-mid:obs-2026-0002")
    panel = c.widget()
    assert panel.collection.id == c.id
    assert [v for _l, v in panel.collection_dids.options] == ["ska-mid:obs-2026-0002"]
    c.delete()


async def test_inside_a_running_loop_a_task_follows_the_job(client):
    panel = srcstage.widget(unique("widget async"))
    search_and_add(panel, "obs-2026-0003.vis-03*", ["ska-mid:obs-2026-0003.vis-03.csv"])
    panel.lifetime_value.value, panel.lifetime_unit.value = 2, "h"
    by_class(panel, "srcstage-stage-button").click()
    assert panel.error.value == "", panel.error.value
    assert isinstance(panel.watcher, asyncio.Task)
    await asyncio.wait_for(panel.watcher, 120)
    assert panel.progress.value == panel.progress.max and "COMPLETED" in panel.state.value
    assert "Staged 1 file" in panel.info.value


def shown(part) -> bool:
    return part.layout.display != "none"


def test_job_actions_extend_and_release_from_the_panel(client):
    """Extend (with its lifetime) and Release show for a job that holds a copy; Retry does not."""
    panel = srcstage.widget(unique("widget actions"))
    assert not shown(panel.job_actions)  # no job yet: nothing to act on
    panel.collection.add("ska-low:scale-00161.txt")  # no other test stages it
    panel.open_collection(panel.collection.name)
    panel.lifetime_value.value, panel.lifetime_unit.value = 1, "d"
    by_class(panel, "srcstage-stage-button").click()
    assert panel.error.value == "", panel.error.value
    panel.join(180)
    assert panel.job.last_status.phase == "completed"
    for name in ("srcstage-extend-lifetime", "srcstage-extend-button", "srcstage-release-button"):
        assert shown(by_class(panel, name)), name
    assert not shown(by_class(panel, "srcstage-retry-button"))
    assert panel.actions_why.value == ""

    by_class(panel, "srcstage-extend-lifetime").value = "3d"
    by_class(panel, "srcstage-extend-button").click()
    assert panel.error.value == "", panel.error.value
    assert srcstage.job(panel.job.id).lifetime_s == 3 * 86400  # the server's record of the job
    assert "Kept until" in panel.info.value

    by_class(panel, "srcstage-extend-lifetime").value = "9999d"  # over the cap: refused verbatim, no change
    by_class(panel, "srcstage-extend-button").click()
    assert "longer than" in panel.error.value
    assert srcstage.job(panel.job.id).lifetime_s == 3 * 86400

    by_class(panel, "srcstage-release-button").click()
    assert panel.error.value == "", panel.error.value
    assert srcstage.job(panel.job.id).phase == "released"
    assert not shown(by_class(panel, "srcstage-extend-button")) and not shown(
        by_class(panel, "srcstage-release-button")
    )
    panel.collection.delete()


def test_retry_from_the_panel_follows_one_new_job(client):
    panel = srcstage.widget(unique("widget retry"))
    panel.collection.add("ska-low:scale-00171.txt")  # no other test stages it
    # A 1 s lifetime: the rule is gone before the tape recall ends, and the job fails.
    failed = panel.collection.stage(lifetime="1s")
    panel.follow(failed)
    panel.join(180)
    assert panel.job.last_status.phase == "failed", panel.state.value
    assert shown(by_class(panel, "srcstage-retry-button"))
    assert not shown(by_class(panel, "srcstage-extend-button"))
    by_class(panel, "srcstage-retry-button").click()
    assert panel.error.value == "", panel.error.value
    assert panel.job.id != failed.id and panel.job.raw.get("retry_of") == failed.id
    panel.stop()
    retries = [j for j in srcstage.jobs() if j.raw.get("retry_of") == failed.id]
    assert [j.id for j in retries] == [panel.job.id]
    panel.collection.delete()
