"""The state files: a write killed with SIGKILL loses nothing, and its temp file is gone at the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from srcstage_jlab.staging.collections import CollectionStore
from srcstage_jlab.staging.store import JsonFile

WRITER = """
import sys, itertools
from pathlib import Path
from srcstage_jlab.staging.store import JsonFile
store = JsonFile(Path(sys.argv[1]))
big = ["ska-mid:file-%06d" % i for i in range(20000)]
print("ready", flush=True)
for n in itertools.count():
    store.write_now({"collections": [], "n": n, "big": big})
"""


def test_killed_writes_lose_nothing_and_leave_no_temp_file_after_start(tmp_path):
    path = tmp_path / "collections.json"
    JsonFile(path).write_now({"collections": [], "n": -1})
    leftovers_seen = 0
    for attempt in range(8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE)
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(0.05 + 0.03 * attempt)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(10)
        leftovers_seen += len(list(tmp_path.glob(".collections.json.*")))
        data = json.loads(path.read_text())  # the last complete write, whole
        assert data["n"] >= -1 and "collections" in data
        CollectionStore(path)  # a server starting on this state dir
        assert list(tmp_path.glob(".collections.json.*")) == []
        assert json.loads(path.read_text()) == data  # starting changed nothing else
    print(f"temp files left by {8} kills: {leftovers_seen}, all removed at start")


def test_only_our_own_leftovers_are_removed(tmp_path):
    path = tmp_path / "jobs.json"
    JsonFile(path).write_now({"jobs": []})
    ours = tmp_path / ".jobs.json.abc123"
    others = [tmp_path / ".collections.json.abc123", tmp_path / "jobs.json.bak", tmp_path / ".jobs-x.json"]
    for leftover in [ours, *others]:
        leftover.write_text("{partial")
    assert JsonFile(path).load({}) == {"jobs": []}
    assert not ours.exists() and all(p.exists() for p in others)
