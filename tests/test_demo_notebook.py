"""notebooks/demo.ipynb, executed headless (nbclient, a real ipykernel) against `srcstage_server`.

The kernel finds the server through SRCSTAGE_SERVER_URL / SRCSTAGE_SERVER_TOKEN, as a headless
run elsewhere would. Widget state is stored in the notebook, as JupyterLab saves it.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "demo.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def text_of(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def cell_with(nb, source_fragment: str):
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and source_fragment in c.source]
    return cell


@pytest.fixture(scope="module")
def executed(srcstage_server, tmp_path_factory):
    """The notebook, run once for this module (staging the same collection again is a duplicate)."""
    tmp_path = tmp_path_factory.mktemp("demo-notebook")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SRCSTAGE_SERVER_URL", srcstage_server.url)
        env.setenv("SRCSTAGE_SERVER_TOKEN", srcstage_server.token)
        env.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))  # no other server to find
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(tmp_path)}},
        )
        try:
            client.execute()
        finally:
            nbformat.write(nb, tmp_path / "demo-executed.ipynb")  # kept for a look when a test fails
    return nb


def test_the_demo_notebook_runs_headless_and_reads_staged_files(executed, sandbox):
    nb = executed
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors

    assert "signed in as Demo Astronomer" in text_of(cell_with(nb, "srcstage.session()"))
    assert sandbox.local_area["name"] in text_of(cell_with(nb, "srcstage.destination()"))
    assert "ska-mid:obs-2026-0001" in text_of(cell_with(nb, "srcstage.search("))
    assert "<Collection 'demo notebook': 2 DIDs" in text_of(cell_with(nb, 'srcstage.collection("demo notebook")'))
    assert "Precheck OK" in text_of(cell_with(nb, "c.precheck("))

    waited = cell_with(nb, "job.wait(")
    assert "COMPLETED" in text_of(waited) and "100%" in text_of(waited)
    assert any(WIDGET_VIEW in o.get("data", {}) for o in waited.outputs), "no progress bar widget"

    listed = text_of(cell_with(nb, "job.paths()")).splitlines()
    assert len(listed) == 2 and all(line.startswith(sandbox.local_area["directory"]) for line in listed)
    for line in listed:
        path, size, _ = line.rsplit(" ", 2)
        assert Path(path).stat().st_size == int(size) > 0

    head = text_of(cell_with(nb, 'srcstage.path("ska-mid:obs-2026-0001.vis-02.csv")')).splitlines()
    assert head[0].startswith("# ska-mid:obs-2026-0001 product 2") and head[1].startswith("time_s,frequency_mhz")
    assert len(head) == 5

    not_staged = text_of(cell_with(nb, "deep-field-cube"))
    assert not_staged.startswith("NotStagedError") and "srcstage.collection(" in not_staged
    assert "COMPLETED" in text_of(cell_with(nb, "await job.astatus()"))


def test_the_panel_is_saved_with_the_notebook(executed):
    nb = executed
    panel_cell = cell_with(nb, "c.widget()")
    (view,) = [o.data[WIDGET_VIEW] for o in panel_cell.outputs if WIDGET_VIEW in o.get("data", {})]
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    assert view["model_id"] in state
    models = state.values()
    classes = {cls for m in models for cls in m["state"].get("_dom_classes", [])}
    assert {"srcstage-panel", "srcstage-stage-button", "srcstage-progress", "srcstage-collection-dids"} <= classes
    dids = next(m for m in models if "srcstage-collection-dids" in m["state"].get("_dom_classes", []))
    assert [label.split()[0] for label in dids["state"]["_options_labels"]] == [
        "ska-mid:obs-2026-0001.vis-02.csv",
        "ska-mid:obs-2026-0003.vis-04.csv",
    ]
    json.dumps(nb.metadata["widgets"])  # plain JSON, as a saved notebook holds it
