"""Unit tests of the kernel-side API that need no sandbox and no Jupyter server.

Server discovery uses real runtime files in a temporary runtime dir, read the way Jupyter's own
`list_running_servers` reads them (checked against it); the "answers /srcstage/config" probe talks to a tiny HTTP server on
127.0.0.1 started here.
"""

from __future__ import annotations

import http.server
import io
import json
import os
import pydoc
import threading
from datetime import timedelta

import pytest

import srcstage_jlab as srcstage
from srcstage_jlab import client as api

# --- lifetimes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, sent",
    [
        (3600, 3600),
        (90.4, 90),
        ("7d", "7d"),
        (" 12h ", "12h"),
        ("P7D", "P7D"),
        (timedelta(days=1), 86400),
        (timedelta(hours=1, seconds=0.6), 3601),
        (None, None),
    ],
)
def test_lifetime_is_sent_as_seconds_or_as_written(given, sent):
    assert api.normalize_lifetime(given) == sent


@pytest.mark.parametrize("bad", [True, 0, -5, 0.2, "", "   ", [7], timedelta(0), float("nan")])
def test_bad_lifetimes_are_refused_before_any_call(bad):
    with pytest.raises(srcstage.InvalidInputError) as err:
        api.normalize_lifetime(bad)
    assert "lifetime" in str(err.value).lower()


# --- DIDs -----------------------------------------------------------------------------


def test_did_arguments_are_flattened_stripped_and_deduplicated():
    info = api.DidInfo({"did": "ska-mid:c", "namespace": "ska-mid", "name": "c", "type": "file"})
    got = api.normalize_dids(
        " ska-mid:a ",
        ["ska-mid:b", ("ska-mid:a", {"ska-mid:b"})],
        info,
        {"namespace": "ska-low", "name": "d"},
        {"did": "ska-low:e"},
        (x for x in ["ska-low:f"]),
    )
    assert got == ["ska-mid:a", "ska-mid:b", "ska-mid:c", "ska-low:d", "ska-low:e", "ska-low:f"]


def test_did_names_may_contain_colons_and_slashes():
    assert api.normalize_dids("user.demo:run:2/part") == ["user.demo:run:2/part"]


@pytest.mark.parametrize(
    "bad, words",
    [
        ("no-namespace", "namespace:name"),
        (":name", "both"),
        ("ska-mid:", "both"),
        (42, "int"),
        ({"namespace": "x"}, "namespace:name"),
    ],
)
def test_malformed_did_arguments_say_what_is_wrong(bad, words):
    with pytest.raises(srcstage.InvalidInputError) as err:
        api.normalize_dids(["ska-mid:fine", bad])
    assert words in str(err.value)


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, status, cls",
    [
        ("invalid_input", 400, srcstage.InvalidInputError),
        ("not_found", 404, srcstage.NotFoundError),
        ("not_signed_in", 401, srcstage.NotSignedInError),
        ("forbidden", 403, srcstage.PolicyError),
        ("precheck_failed", 409, srcstage.PolicyError),
        ("no_destination", 409, srcstage.PolicyError),
        ("conflict", 409, srcstage.ConflictError),
        ("not_staged", 404, srcstage.NotStagedError),
        ("unavailable", 503, srcstage.ServiceUnavailableError),
        ("error", 500, srcstage.SrcStageError),
    ],
)
def test_every_rest_code_maps_to_one_error_class(code, status, cls):
    err = api.error_from_payload(
        status, {"message": "Plain words.", "detail": "Rucio said no", "code": code, "service": "data-management"}
    )
    assert type(err) is cls
    assert isinstance(err, srcstage.SrcStageError) and isinstance(err, Exception)
    assert (err.message, err.detail, err.code, err.status) == ("Plain words.", "Rucio said no", code, status)
    assert str(err).splitlines()[:2] == ["Plain words.", "The SRCNet Data Management API said: Rucio said no"]


def test_codes_of_the_contract_are_all_mapped():
    from pathlib import Path

    import yaml  # the test extra has pyyaml

    spec = yaml.safe_load((Path(srcstage.__file__).parent / "openapi.yaml").read_text())
    codes = spec["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
    assert set(codes) == set(api.CODE_TO_ERROR)


def test_unknown_codes_fall_back_on_the_http_status():
    assert type(api.error_from_payload(409, {"message": "x", "code": "brand_new"})) is srcstage.ConflictError
    assert type(api.error_from_payload(502, {"message": "x"})) is srcstage.ServiceUnavailableError
    assert type(api.error_from_payload(418, "not json")) is srcstage.SrcStageError
    assert api.error_from_payload(418, None).message == "The server answered HTTP 418."


def test_fastapi_style_detail_is_readable_and_kept_verbatim():
    detail = [{"loc": ["body", "lifetime"], "msg": "ensure this value is less than 2592000", "type": "x"}]
    err = api.error_from_payload(400, {"message": "Refused.", "detail": detail, "code": "invalid_input"})
    assert err.detail == detail
    assert "body.lifetime: ensure this value is less than 2592000" in str(err)


def test_policy_error_carries_the_precheck():
    precheck = {
        "ok": False,
        "lifetime_s": 90 * 86400,
        "max_lifetime_s": 30 * 86400,
        "problems": [{"code": "lifetime_over_cap", "message": "The lifetime 90 days is too long."}],
        "destination": {"name": "SANDBOX_LOCAL"},
    }
    err = api.error_from_payload(
        409, {"message": "The lifetime 90 days is too long.", "code": "precheck_failed", "precheck": precheck}
    )
    assert isinstance(err, srcstage.PolicyError) and err.precheck is not None and not err.precheck.ok
    text = repr(err.precheck)
    assert "NOT OK" in text and "lifetime_over_cap" in text and "SANDBOX_LOCAL" in text


def test_hints_say_how_to_recover():
    err = api.error_from_payload(401, {"message": "Not signed in.", "code": "not_signed_in"})
    assert "srcstage.sign_in()" in str(err)
    assert "srcstage.connect(" in str(srcstage.ServerNotFoundError("No server."))


def test_timeout_is_a_timeout_error_and_nothing_is_a_base_exception_only():
    assert issubclass(srcstage.StagingTimeout, TimeoutError)
    assert issubclass(srcstage.StagingTimeout, srcstage.SrcStageError)
    for name in api.__all__:
        obj = getattr(api, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, srcstage.SrcStageError) and issubclass(obj, Exception)


# --- progress text --------------------------------------------------------------------


def status(**kw):
    data = {"id": "j1", "state": "STAGING", "phase": "active", "progress": {}}
    data.update({k: v for k, v in kw.items() if k in ("state", "phase", "error")})
    data["progress"] = {k: v for k, v in kw.items() if k.startswith(("files_", "bytes_"))}
    return api.JobStatus(data)


def test_progress_line_by_bytes_with_files():
    line = api.format_progress(
        status(files_done=2, files_total=4, bytes_done=1_250_000, bytes_total=2_500_000), width=10
    )
    assert line == "[#####-----]   50%  2/4 files  1.2 MB/2.5 MB  STAGING"


def test_progress_line_without_numbers_and_when_done():
    assert api.format_progress(status(), width=4) == "[----]    ?%  STAGING"
    done = status(state="COMPLETED", phase="completed", files_done=3, files_total=3)
    assert api.format_progress(done, width=4) == "[####]  100%  3/3 files  COMPLETED"


def test_unknown_states_are_shown_verbatim_and_not_as_success():
    odd = status(state="WAITING_FOR_TAPE_ROBOT", phase="unknown", files_done=3, files_total=3)
    assert not odd.done
    line = api.format_progress(odd, width=0)
    assert "WAITING_FOR_TAPE_ROBOT" in line and "still waiting" in line


def test_progress_line_mentions_a_polling_problem():
    st = status(error={"message": "SRCNet did not accept your sign-in.", "code": "not_signed_in"})
    assert isinstance(st.error, srcstage.NotSignedInError)
    assert api.format_progress(st, width=0).endswith("- SRCNet did not accept your sign-in.")


def test_text_bar_rewrites_one_line_then_ends_it():
    out = io.StringIO()
    bar = api._TextProgress(out, label="my-data:")
    bar.update(status(files_done=1, files_total=4))
    bar.update(status(state="COMPLETED", phase="completed", files_done=4, files_total=4))
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert text.split("\r")[1].startswith("my-data: [######")
    assert "COMPLETED" in text.split("\r")[2]


def test_text_bar_pads_over_a_longer_previous_line():
    out = io.StringIO()
    bar = api._TextProgress(out)
    bar.note("x" * 40)
    bar.note("short")
    assert out.getvalue().split("\r")[2] == "short" + " " * 35


def test_human_units():
    assert api.human_bytes(999) == "999 B" and api.human_bytes(1_500_000_000) == "1.5 GB"
    assert api.human_seconds(604800) == "1 week" and api.human_seconds(172800) == "2 days"
    assert api.human_seconds(90) == "90 seconds"


# --- finding the server -----------------------------------------------------------------


class _Config(http.server.BaseHTTPRequestHandler):
    token = "probe-token"

    def do_GET(self):
        ok = self.path == "/base/srcstage/config" and self.headers.get("Authorization") == f"token {self.token}"
        body = json.dumps({"version": "x"} if ok else {"message": "Forbidden"}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def config_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    path = tmp_path / "runtime"
    path.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(path))
    return path


def write_server(runtime_dir, name, *, pid, port, token="t", base_url="/base/"):
    info = {
        "url": f"http://localhost:{port}{base_url}",
        "hostname": "localhost",
        "port": port,
        "sock": "",
        "secure": False,
        "base_url": base_url,
        "token": token,
        "root_dir": "/tmp",
        "password": False,
        "pid": pid,
        "version": "2.21.1",
    }
    (runtime_dir / f"jpserver-{name}.json").write_text(json.dumps(info))
    return info


def never(*args):
    raise AssertionError("must not probe")


def test_explicit_environment_comes_first(runtime_dir):
    write_server(runtime_dir, "a", pid=os.getppid(), port=1)
    env = {
        "SRCSTAGE_SERVER_URL": "http://127.0.0.1:9999/lab",
        "SRCSTAGE_SERVER_TOKEN": "abc",
        "JUPYTERHUB_API_TOKEN": "hub",
        "JUPYTERHUB_SERVICE_URL": "http://0.0.0.0:8888/user/x/",
    }
    c = api.discover(env, probe=never)
    assert (c.url, c.token, c.found_by) == ("http://127.0.0.1:9999/lab/", "abc", "$SRCSTAGE_SERVER_URL")
    assert "abc" not in repr(c)


@pytest.mark.parametrize(
    "bind, expected",
    [
        ("http://0.0.0.0:8888/user/alice/", "http://127.0.0.1:8888/user/alice/"),
        ("http://:41234/user/alice/srv/", "http://127.0.0.1:41234/user/alice/srv/"),
        ("http://10.1.2.3:8888/user/alice/", "http://10.1.2.3:8888/user/alice/"),
    ],
)
def test_jupyterhub_single_user_server(runtime_dir, bind, expected):
    write_server(runtime_dir, "a", pid=os.getppid(), port=1)
    env = {
        "JUPYTERHUB_API_TOKEN": "hub-token",
        "JUPYTERHUB_SERVICE_URL": bind,
        "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
    }
    c = api.discover(env, probe=never)
    assert (c.url, c.token) == (expected, "hub-token")


def test_jupyterhub_prefix_only_takes_the_port_from_the_runtime_file(runtime_dir):
    write_server(runtime_dir, "other", pid=os.getpid(), port=7001, base_url="/user/bob/")
    write_server(runtime_dir, "mine", pid=os.getpid(), port=7002, base_url="/user/alice/")
    env = {"JUPYTERHUB_API_TOKEN": "hub-token", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}
    c = api.discover(env, ppid=-1, probe=never)
    assert (c.url, c.token) == ("http://localhost:7002/user/alice/", "hub-token")


def test_jupyterhub_prefix_only_without_runtime_file_uses_the_default_port(runtime_dir):
    env = {"JUPYTERHUB_API_TOKEN": "hub-token", "JUPYTERHUB_SERVICE_PREFIX": "/user/alice/"}
    assert api.discover(env, probe=never).url == "http://127.0.0.1:8888/user/alice/"


def test_runtime_file_of_the_parent_process_wins(runtime_dir):
    write_server(runtime_dir, "unrelated", pid=os.getpid(), port=7001, token="x")
    write_server(runtime_dir, "parent", pid=os.getppid(), port=7002, token="parent-token")
    c = api.discover({}, probe=never)
    assert (c.url, c.token) == ("http://localhost:7002/base/", "parent-token")
    assert "started this kernel" in c.found_by


def test_otherwise_the_only_server_that_answers(runtime_dir, config_server):
    # A headless run (nbclient, papermill): the kernel's parent is no Jupyter server.
    write_server(runtime_dir, "nothing-listens", pid=os.getpid(), port=1, token=_Config.token)
    write_server(runtime_dir, "wrong-token", pid=os.getpid(), port=config_server, token="wrong")
    write_server(runtime_dir, "ours", pid=os.getpid(), port=config_server, token=_Config.token)
    c = api.discover({}, ppid=-1)
    assert (c.url, c.token) == (f"http://localhost:{config_server}/base/", _Config.token)
    assert "only running server" in c.found_by


def test_several_answering_servers_are_not_guessed_between(runtime_dir, config_server):
    write_server(runtime_dir, "one", pid=os.getpid(), port=config_server, token=_Config.token)
    write_server(runtime_dir, "two", pid=os.getpid(), port=config_server, token=_Config.token, base_url="/base/")
    (runtime_dir / "jpserver-two.json").write_text(
        (runtime_dir / "jpserver-two.json").read_text().replace("localhost", "127.0.0.1")
    )
    with pytest.raises(srcstage.ServerNotFoundError) as err:
        api.discover({}, ppid=-1)
    assert "Several" in str(err.value) and "srcstage.connect(" in str(err.value)


def test_runtime_files_are_read_as_jupyter_reads_them_and_stale_ones_are_left_alone(runtime_dir):
    import subprocess
    import sys

    from jupyter_server.serverapp import list_running_servers

    from srcstage_jlab.kernel.discovery import running_servers

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    write_server(runtime_dir, "alive", pid=os.getpid(), port=7001)
    write_server(runtime_dir, "dead", pid=int(dead.stdout), port=7002)
    (runtime_dir / "jpserver-half-written.json").write_text('{"pid": ')
    (runtime_dir / "kernel-1.json").write_text("{}")

    ours = running_servers(str(runtime_dir))
    assert [s["port"] for s in ours] == [7001]
    assert (runtime_dir / "jpserver-dead.json").exists()  # not ours to delete
    assert ours == list(list_running_servers(str(runtime_dir)))  # Jupyter agrees (and deletes the stale file)
    assert running_servers(str(runtime_dir / "no-such-dir")) == []


def test_nothing_found_says_how_to_point_to_a_server(runtime_dir):
    write_server(runtime_dir, "nothing-listens", pid=os.getpid(), port=1)
    with pytest.raises(srcstage.ServerNotFoundError) as err:
        api.discover({}, ppid=-1)
    text = str(err.value)
    assert "srcstage.connect(" in text and "SRCSTAGE_SERVER_URL" in text and str(runtime_dir) in text
    assert "1 running" in text


def test_connect_sets_the_default_client_and_never_shows_the_token(monkeypatch):
    monkeypatch.setattr(api, "_default", None)
    c = srcstage.connect("http://127.0.0.1:1/base", token="secret")
    assert srcstage.get_client() is c and c.url == "http://127.0.0.1:1/base/"
    assert "secret" not in repr(c)
    with pytest.raises(srcstage.InvalidInputError):
        srcstage.connect("127.0.0.1:8888")


def test_an_unreachable_server_is_a_clear_error(monkeypatch):
    c = api.Client("http://127.0.0.1:1/", "t", timeout=2)
    with pytest.raises(srcstage.ServerNotFoundError) as err:
        c.collections()
    assert "Could not reach the Jupyter server at http://127.0.0.1:1/" in str(err.value)


# --- documentation -----------------------------------------------------------------------


def test_every_public_name_is_documented():
    for name in api.__all__:
        obj = getattr(srcstage, name)
        assert obj.__doc__ and obj.__doc__.strip(), name
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for attr, member in vars(obj).items():
                if callable(member) and not attr.startswith("_"):
                    assert member.__doc__, f"{name}.{attr}"


def test_help_reads_well():
    text = pydoc.render_doc(srcstage, renderer=pydoc.plaintext)
    for word in ("collection(name", "stage(self, lifetime", "await_done", "NotStagedError", "path(did"):
        assert word in text, word


def test_every_blocking_call_has_an_async_twin():
    import inspect

    for cls in (api.Client, api.Collection, api.Job):
        members = {n: m for n, m in vars(cls).items() if not n.startswith("_")}
        for n, m in members.items():
            if not inspect.isfunction(m) or inspect.iscoroutinefunction(m) or n in ("widget", "close", "config"):
                continue
            twin = "await_done" if n == "wait" else f"a{n}"
            assert inspect.iscoroutinefunction(members.get(twin)), f"{cls.__name__}.{n} has no async twin {twin}"
