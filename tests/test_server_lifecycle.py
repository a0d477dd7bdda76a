"""Tokens over time, server restarts, and secrets: through real Jupyter servers and the sandbox."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from jupyter_client import BlockingKernelClient

from tests.sandbox.helpers import Control, RucioRoot
from tests.server_plugin import JupyterProcess, demo_token_file, srcstage_config
from tests.test_server_flow import three_cold_files, wait_for_job

JWT = re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}")


@pytest.fixture
def short_lived_tokens(sandbox):
    """The sandbox issues 4-second access tokens while the test runs."""
    control = Control(sandbox.control_url)
    control.token_lifetime(4)
    yield
    control.token_lifetime(3600)


@pytest.mark.parametrize("srcstage_overrides", [{"token_refresh_margin": 1.0}])
async def test_tokens_expiring_mid_job_are_renewed(short_lived_tokens, api, jp_serverapp, srcstage_overrides):
    broker = jp_serverapp.web_app.settings["srcstage"].broker
    files = await three_cold_files(api)
    status, collection = await api("POST", "collections", {"name": "short tokens", "dids": [f["did"] for f in files]})
    status, job = await api("POST", f"collections/{collection['id']}/stage", {"lifetime": "1d"})
    assert status == 202, job
    await asyncio.sleep(5)  # every token issued so far has expired
    done = await wait_for_job(api, job["id"])
    assert done["phase"] == "completed" and done["error"] is None
    status, names = await api("GET", "namespaces")
    assert status == 200
    assert broker.refreshes >= 1  # the user's own token was refreshed through the Auth API
    assert broker.exchanges["data-management-api"] >= 2  # and the DM token re-exchanged


def test_restart_mid_job_resumes_tracking_without_duplicates(sandbox, tmp_path):
    state = tmp_path / "state"
    rucio = RucioRoot(sandbox.rucio_url, sandbox.rucio_root)
    first = JupyterProcess(tmp_path, srcstage_config(sandbox, state, demo_token_file(sandbox, tmp_path))).start()
    try:
        # Files on tape that no other test stages, so the job is really mid-recall at the restart.
        found = first.get(
            "srcstage/dids", params={"namespace": "ska-low", "name": "scale-0290*", "type": "file"}
        ).json()["items"]
        collection = first.request(
            "POST", "srcstage/collections", json={"name": "restart", "dids": [f["did"] for f in found[:2]]}
        ).json()
        job = first.request("POST", f"srcstage/collections/{collection['id']}/stage", json={"lifetime": "1d"}).json()
        assert job["phase"] == "active", job
        assert first.get(f"srcstage/jobs/{job['id']}").json()["phase"] == "active"
    finally:
        first.stop()  # mid-job: the cold area's recall delay has not passed yet
    second = JupyterProcess(tmp_path, srcstage_config(sandbox, state, demo_token_file(sandbox, tmp_path))).start()
    try:
        jobs = second.get("srcstage/jobs").json()["jobs"]
        assert [j["id"] for j in jobs] == [job["id"]]
        done = second.wait_for_job(job["id"])
        assert done["phase"] == "completed"
        collections = second.get("srcstage/collections").json()["collections"]
        assert [c["name"] for c in collections] == ["restart"]
        did_name = job["did"].split(":", 1)[1]
        rules = [r for r in rucio._stream("/rules/", account="demo") if r.get("name") == did_name]
        assert len(rules) == 1
        paths = second.get(f"srcstage/jobs/{job['id']}/paths").json()
        assert paths["missing"] == 0 and all(Path(p["path"]).is_file() for p in paths["paths"])
    finally:
        second.stop()
        rucio.close()


def _kernel_environment(server: JupyterProcess) -> dict:
    kernel = server.request("POST", "api/kernels", json={"name": "python3"}).json()
    try:
        connection = Path(server.env["JUPYTER_RUNTIME_DIR"]) / f"kernel-{kernel['id']}.json"
        deadline = time.monotonic() + 30
        while not connection.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        client = BlockingKernelClient(connection_file=str(connection))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        outputs: list[dict] = []
        reply = client.execute_interactive(
            "import os, json; print(json.dumps(dict(os.environ)))",
            timeout=60,
            output_hook=lambda msg: outputs.append(msg),
        )
        assert reply["content"]["status"] == "ok"
        client.stop_channels()
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        return json.loads(text)
    finally:
        server.request("DELETE", f"api/kernels/{kernel['id']}")


def test_no_token_in_answers_logs_or_kernels(sandbox, tmp_path):
    """A full flow, then every REST answer, the whole server log and a kernel's environment
    are searched for the tokens the sandbox issued (and for anything shaped like a JWT)."""
    pair = Control(sandbox.control_url).user_tokens("demo")
    config = srcstage_config(sandbox, tmp_path / "state", None, poll_interval=0.3)
    server = JupyterProcess(
        tmp_path,
        config,
        log_level="DEBUG",
        extra_env={"ACCESS_TOKEN": pair["access_token"], "REFRESH_TOKEN": pair["refresh_token"]},
    )
    server.start()
    answers: list[str] = []

    def call(method: str, path: str, **kwargs) -> dict:
        response = server.request(method, "srcstage/" + path, **kwargs)
        answers.append(response.text)
        return response.json() if response.content else {}

    try:
        session = call("GET", "session")
        assert session["state"] == "signed_in" and session["source"] == "environment"
        call("GET", "destination")
        call("GET", "namespaces")
        found = call("GET", "dids", params={"namespace": "ska-mid", "name": "obs-2026-0002*", "type": "file"})
        collection = call(
            "POST", "collections", json={"name": "secrets", "dids": [i["did"] for i in found["items"][:2]]}
        )
        call("POST", f"collections/{collection['id']}/submit")
        call("POST", f"collections/{collection['id']}/precheck", json={"lifetime": "1d"})
        job = call("POST", f"collections/{collection['id']}/stage", json={"lifetime": "1d"})
        done = server.wait_for_job(job["id"])
        answers.append(json.dumps(done))
        call("GET", f"jobs/{job['id']}/paths")
        call("GET", "paths", params={"did": "ska-mid:deep-field-cube"})  # an error answer too
        call("GET", "locations", params={"did": found["items"][0]["did"]})
        call("POST", f"collections/{collection['id']}/stage", json={"lifetime": "999d"})
        environment = _kernel_environment(server)
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "srcstage" in log
    secrets = [pair["access_token"], pair["refresh_token"]]
    for text, where in [
        *((a, "REST answer") for a in answers),
        (log, "server log"),
        (json.dumps(environment), "kernel environment"),
    ]:
        for secret in secrets:
            assert secret not in text, f"a token leaked into a {where}"
        assert not JWT.search(text), f"something shaped like a JWT is in a {where}"
    assert "ACCESS_TOKEN" not in environment and "REFRESH_TOKEN" not in environment
