"""pytest fixtures that run the SRCNet sandbox (``python -m srcstage_jlab.sandbox run``).

``sandbox`` (session scope) starts one sandbox in a temporary state dir and gives
its ready file as attributes (``sandbox.rucio_url``, ``sandbox.data_management_api_url``,
...) plus ``.config`` (a :class:`SandboxConfig` for that state dir), ``.state_dir`` and
``.log_path``. ``confirmed_sandbox`` is a second one whose DM serves only the public
contract (``--dm-profile confirmed``). :func:`start_sandbox` / :func:`stop_sandbox` do the same for tests that
need a sandbox of their own.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from srcstage_jlab.sandbox.config import SandboxConfig

READY_TIMEOUT_S = 180.0  # a loaded 2-core machine has taken over 90 s


def _say(text: str) -> None:
    """Print past pytest's capture, so a CI log shows it."""
    print(text, file=sys.__stderr__, flush=True)


def _die_with_parent() -> None:
    # If pytest is killed, the sandbox (and, through it, its children) goes too.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def descendants(pid: int) -> set[int]:
    """All live descendants of ``pid`` (from /proc), to check none is left behind."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_sandbox(
    state_dir: Path, *extra_args: str, tape_delay: float = 2, timeout: float = READY_TIMEOUT_S
) -> SimpleNamespace:
    """Start ``run`` as a subprocess (own process group, output to a log) and wait for its ready file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = state_dir.parent / f"{state_dir.name}-ready.json"
    log_path = state_dir.parent / f"{state_dir.name}.log"
    env = dict(os.environ, TMPDIR=str(state_dir.parent))  # Rucio client token caches stay per run
    t0 = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "srcstage_jlab.sandbox",
                "run",
                "--state-dir",
                str(state_dir),
                "--ready-file",
                str(ready_file),
                "--tape-delay",
                str(tape_delay),
                "--token-lifetime",
                "3600",
                *extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=_die_with_parent,
            env=env,
        )
    while not ready_file.exists():
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            tail = log_path.read_text(errors="replace")[-4000:]
            pytest.fail(f"the sandbox did not become ready (exit code {proc.returncode}); log tail:\n{tail}")
        time.sleep(0.1)
    ready = json.loads(ready_file.read_text())
    _say(
        f"sandbox started in {time.monotonic() - t0:.1f} s (its own count: {ready['started_in_s']} s, "
        f"steps {ready.get('timings_s')})"
    )
    config = SandboxConfig(state_dir=state_dir, tape_delay_s=ready.get("tape_delay_s", tape_delay))
    return SimpleNamespace(
        **ready,
        config=config,
        log_path=log_path,
        ready_file=ready_file,
        process=proc,
        wall_start_s=time.monotonic() - t0,
    )


def stop_sandbox(sb: SimpleNamespace, timeout: float = 60.0) -> list[int]:
    """SIGTERM, wait, SIGKILL fallback; returns the pids left alive (should be none)."""
    proc: subprocess.Popen = sb.process
    family = descendants(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _say(f"sandbox pid {proc.pid} did not stop in {timeout:.0f} s: SIGKILL")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    deadline = time.monotonic() + 10
    left = [p for p in family if alive(p)]
    while left and time.monotonic() < deadline:  # children may take a moment after the parent
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def running_sandbox(state_dir: Path, *args: str):
    """Start a sandbox, yield it, then stop it and check it died of nothing and left nothing."""
    sb = start_sandbox(state_dir, *args)
    try:
        yield sb
    finally:
        returncode_before = sb.process.poll()
        left = stop_sandbox(sb)
        assert returncode_before is None, (
            f"the sandbox died during the tests (code {returncode_before}); see {sb.log_path}"
        )
        assert sb.process.returncode == 0, f"the sandbox exited with {sb.process.returncode}; see {sb.log_path}"
        assert not left, f"processes left behind by the sandbox: {left}"


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    """One running sandbox for the whole test session."""
    yield from running_sandbox(tmp_path_factory.mktemp("sandbox") / "state")


# Small: the confirmed-profile tests stage a dataset of ska-low's scale set, not thousands of files.
CONFIRMED_SCALE_FILES = 40


@pytest.fixture(scope="session")
def confirmed_sandbox(tmp_path_factory: pytest.TempPathFactory):
    """One sandbox whose DM serves only the public contract (`--dm-profile confirmed`), for the
    session; started only when a selected test needs it."""
    yield from running_sandbox(
        tmp_path_factory.mktemp("confirmed-sandbox") / "state",
        "--dm-profile",
        "confirmed",
        "--scale-files",
        str(CONFIRMED_SCALE_FILES),
    )
