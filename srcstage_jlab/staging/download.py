"""Download of staged files over WebDAV with a storage token (the core of download mode).

For a server without a mount of the destination: each file is streamed to `<dest>.part`,
resumed with a Range request when a partial file is there, checked against its adler32 from the
DID metadata, then renamed into place. A file already in place whose size and adler32 match is
reused without a request; one that does not match is fetched again. Concurrency is bounded.
The storage token is fetched per file by the caller's `token_for` and never written anywhere.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .. import messages

CHUNK = 1024 * 1024
DEFAULT_CONCURRENCY = 4


@dataclass(frozen=True)
class FileToFetch:
    did: str
    url: str  # https:// or davs:// replica at the destination
    dest: Path
    size: int
    adler32: str  # 8 hex digits, from the DID metadata


@dataclass
class Progress:
    files_total: int = 0
    files_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    bytes_reused: int = 0  # of bytes_done: found intact, not fetched
    reused: int = 0
    refetched: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # did -> why
    running: bool = True  # False once every file is in place, reused or failed
    folder: str = ""  # where the files go (the server's download_dir)

    def to_json(self) -> dict:
        """What `GET /srcstage/downloads` tells (no URL, no token: the reasons name DIDs and HTTP statuses)."""
        return {
            "running": self.running,
            "files_total": self.files_total,
            "files_done": self.files_done,
            "bytes_total": self.bytes_total,
            "bytes_done": self.bytes_done,
            "bytes_reused": self.bytes_reused,
            "reused": self.reused,
            "refetched": self.refetched,
            "failed": dict(self.failed),
            "folder": self.folder,
        }


def adler32_of(path: Path) -> str:
    value = 1
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            value = zlib.adler32(chunk, value)
    return f"{value & 0xFFFFFFFF:08x}"


def _intact(path: Path, item: FileToFetch) -> bool:
    return path.is_file() and path.stat().st_size == item.size and adler32_of(path) == item.adler32.lower()


def http_url(url: str) -> str:
    """davs:// is WebDAV over TLS: an https:// URL for httpx."""
    return "https://" + url[len("davs://") :] if url.startswith("davs://") else url


async def _fetch(client: httpx.AsyncClient, item: FileToFetch, token: str, progress: Progress) -> None:
    part = item.dest.with_name(item.dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > item.size:
        part.unlink()
        have = 0
    headers = {"Authorization": f"Bearer {token}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    async with client.stream("GET", http_url(item.url), headers=headers) as response:
        if response.status_code == 200:
            have = 0  # the storage ignored the range: start over
        elif response.status_code != 206:
            raise OSError(messages.DOWNLOAD_HTTP_ERROR.format(response=response, item=item))
        progress.bytes_done += have
        fh = await asyncio.to_thread(open, part, "ab" if have else "wb")
        try:
            async for chunk in response.aiter_bytes(CHUNK):
                await asyncio.to_thread(fh.write, chunk)  # the disk never blocks the event loop
                progress.bytes_done += len(chunk)
        finally:
            await asyncio.to_thread(fh.close)
    if not await asyncio.to_thread(_intact, part, item):
        part.unlink(missing_ok=True)
        raise OSError(messages.DOWNLOAD_CHECKSUM_MISMATCH.format(item=item))
    os.replace(part, item.dest)


async def download(
    items: list[FileToFetch],
    token_for: Callable[[FileToFetch], Awaitable[str]],
    *,
    ca_file: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    timeout_s: float = 60.0,
    progress: Progress | None = None,
) -> Progress:
    """Fetch what is not there intact yet; `progress` is updated as bytes arrive."""
    progress = progress or Progress()
    progress.files_total = len(items)
    progress.bytes_total = sum(i.size for i in items)
    semaphore = asyncio.Semaphore(max(1, concurrency))
    verify: object = True
    if ca_file:
        import ssl

        verify = ssl.create_default_context(cafile=ca_file)

    async with httpx.AsyncClient(verify=verify, timeout=timeout_s) as client:

        async def one(item: FileToFetch) -> None:
            async with semaphore:
                item.dest.parent.mkdir(parents=True, exist_ok=True)
                if item.dest.exists():
                    if await asyncio.to_thread(_intact, item.dest, item):
                        progress.reused += 1
                        progress.files_done += 1
                        progress.bytes_done += item.size
                        progress.bytes_reused += item.size
                        return
                    progress.refetched += 1
                    item.dest.unlink()
                try:
                    await _fetch(client, item, await token_for(item), progress)
                except (OSError, httpx.HTTPError) as exc:
                    progress.failed[item.did] = str(exc) or type(exc).__name__
                    return
                progress.files_done += 1

        tasks = [asyncio.ensure_future(one(i)) for i in items]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One file's error that is not the file's own (a route not served, a refused token
            # exchange) or a cancellation ends them all: no file goes on being written unwatched.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            progress.running = False
    return progress
