"""Download mode's throughput: the 80 MiB cube (on the sandbox's FAR_TAPE area) read over the
sandbox's HTTPS WebDAV with the DM's download token, by srcstage_jlab/staging/download.py
(streamed to disk, adler32 checked), then read again (reused: no request). Prints MB/s.

    python benchmarks/bench_download.py            # starts and stops a sandbox of its own
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from srcstage_jlab.sandbox import config as cfg  # noqa: E402
from srcstage_jlab.staging.download import FileToFetch, download  # noqa: E402
from tests.sandbox.helpers import bearer, service_token  # noqa: E402
from tests.sandbox_plugin import start_sandbox, stop_sandbox  # noqa: E402

NS, NAME = cfg.OBSERVATIONS_NAMESPACE, "deep-field-cube.f32"


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sandbox = start_sandbox(Path(tmp) / "state", "--scale-files", "10")
        try:
            token = service_token(sandbox, cfg.DATA_MANAGEMENT_AUDIENCE)
            async with httpx.AsyncClient(
                base_url=sandbox.data_management_api_url, headers=bearer(token), timeout=60
            ) as dm:
                located = (await dm.get(f"/data/locate/{NS}/{NAME}")).json()
                entry = next(e for e in located if e["replicas"])
                meta = (await dm.get(f"/metadata/{NS}/{NAME}", params={"plugin": "DID_COLUMN"})).json()
                item = FileToFetch(
                    f"{NS}:{NAME}", entry["replicas"][0], Path(tmp) / NAME, meta["bytes"], meta["adler32"]
                )

                async def token_for(it: FileToFetch) -> str:
                    answer = await dm.get(f"/data/download/{entry['associated_storage_area_id']}/{NS}/{NAME}")
                    return answer.json()["access_token"]

                for label in ("first download", "second call (reused)"):
                    t = time.monotonic()
                    progress = await download([item], token_for, ca_file=sandbox.storage_ca_file)
                    took = time.monotonic() - t
                    assert not progress.failed, progress.failed
                    print(
                        f"{label}: {item.size / 1e6:.1f} MB in {took:.2f} s = {item.size / 1e6 / took:.1f} MB/s "
                        f"(reused {progress.reused}, adler32 checked)"
                    )
        finally:
            stop_sandbox(sandbox)


if __name__ == "__main__":
    asyncio.run(main())
