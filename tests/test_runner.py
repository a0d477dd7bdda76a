"""`python -m srcstage_jlab run`: stage what a notebook declares, wait, execute it (against the sandbox).

No Jupyter server runs for these notebooks: the command starts a private one with the given config,
as a batch job on a node would, and the notebook's kernel reaches it too (`srcstage.require()`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from srcstage_jlab.sandbox.seed import catalogue
from tests.sandbox.helpers import Control
from tests.server_plugin import demo_token_file, srcstage_config

READS_DECLARED_DATA = """\
import srcstage_jlab as srcstage
paths = srcstage.require()   # the notebook's own declaration, already staged by `srcstage run`
print(open(paths["tape-reads"][0]).read().splitlines()[0])
"""


def content_of(did: str) -> bytes:
    scope, name = did.split(":")
    return next(f.content() for ds in catalogue().datasets for f in ds.files if (f.scope, f.name) == (scope, name))


def declaring_notebook(path: Path, did: str, lifetime: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(READS_DECLARED_DATA)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["srcstage"] = {"collections": [{"name": "tape-reads", "dids": [did], "lifetime": lifetime}]}
    nbformat.write(nb, str(path))
    return path


def run_cli(sandbox, tmp_path: Path, notebook: Path, *args: str) -> subprocess.CompletedProcess:
    config = tmp_path / "jupyter_server_config.json"
    srcstage = srcstage_config(sandbox, tmp_path / "state", demo_token_file(sandbox, tmp_path))
    config.write_text(json.dumps({"SrcStage": srcstage}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SRCSTAGE_", "JUPYTERHUB_"))}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")  # no other server to find: a private one starts
    return subprocess.run(
        [sys.executable, "-m", "srcstage_jlab", "run", str(notebook), f"--config={config}", "--timeout=300", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )


def stage_requests(sandbox) -> int:
    requests = Control(sandbox.control_url).stats()["requests"]
    return sum(n for svc in requests.values() for route, n in svc.items() if route.startswith("POST /data/stage"))


def test_run_stages_declared_data_then_executes_the_notebook(sandbox, tmp_path):
    did = "ska-low:scale-02711.txt"  # on tape only; no other test stages it
    notebook = declaring_notebook(tmp_path / "analysis.ipynb", did, "1d")
    result = run_cli(sandbox, tmp_path, notebook, "--output", str(tmp_path / "out.ipynb"))
    assert result.returncode == 0, result.stderr
    assert "started a Jupyter server for this run" in result.stderr
    executed = nbformat.read(str(tmp_path / "out.ipynb"), as_version=4)
    printed = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert printed.strip() == content_of(did).decode().splitlines()[0]
    # A second run finds the data already there: no new staging request.
    before = stage_requests(sandbox)
    again = run_cli(sandbox, tmp_path, notebook, "--no-execute")
    assert again.returncode == 0, again.stderr
    assert stage_requests(sandbox) == before


def test_run_refuses_a_lifetime_over_the_cap_before_any_staging_request(sandbox, tmp_path):
    notebook = declaring_notebook(tmp_path / "greedy.ipynb", "ska-low:scale-02712.txt", "3650d")
    before = stage_requests(sandbox)
    result = run_cli(sandbox, tmp_path, notebook)
    assert result.returncode == 3, result.stderr
    assert "was not run" in result.stderr and "lifetime" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert stage_requests(sandbox) == before
    assert not (tmp_path / "greedy.run.ipynb").exists()
