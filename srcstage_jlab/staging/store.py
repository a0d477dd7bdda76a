"""Atomic JSON persistence: write to a temporary file, fsync, rename.

A crash mid-write leaves the previous file whole; the rename is atomic on POSIX.
A write killed before its rename leaves its temporary file behind: loading (at start,
before this process writes anything) removes such leftovers. They never hold the
current data, since the data became current only by the rename.
Writes run in a worker thread so the server's event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Any


class JsonFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = asyncio.Lock()

    @property
    def _temp_prefix(self) -> str:
        return f".{self.path.name}."

    def remove_leftovers(self) -> list[Path]:
        """Delete temporary files of writes that were killed before their rename; the paths removed."""
        removed = []
        for leftover in self.path.parent.glob(f"{glob.escape(self._temp_prefix)}*"):
            try:
                leftover.unlink()
            except FileNotFoundError:
                continue
            removed.append(leftover)
        return removed

    def load(self, default: Any) -> Any:
        """The file's data (or `default`); called once at start, so it also clears leftovers."""
        self.remove_leftovers()
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return default

    def write_now(self, data: Any) -> None:
        self._write_text(json.dumps(data, indent=1, sort_keys=True))

    def _write_text(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self._temp_prefix, dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def write(self, data: Any) -> None:
        # Serialise in the loop (a consistent snapshot), write in a thread, one write at a time.
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        async with self._lock:
            await asyncio.to_thread(self._write_text, text)
