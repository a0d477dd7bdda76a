"""Atomic JSON persistence: write to a temporary file, fsync, rename.

A crash mid-write leaves the previous file whole; the rename is atomic on POSIX.
Writes run in a worker thread so the server's event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any


class JsonFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def load(self, default: Any) -> Any:
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return default

    def write_now(self, data: Any) -> None:
        self._write_text(json.dumps(data, indent=1, sort_keys=True))

    def _write_text(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
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
