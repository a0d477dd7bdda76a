"""A Rucio transfertool that really copies bytes between the sandbox's storage areas.

Rucio's conveyor hands transfers to a transfertool (FTS in production). The
sandbox has no FTS: this subclass of Rucio's ``mock`` transfertool copies each
``file://`` source PFN to its destination PFN itself, so staged files really
appear in the destination area's directory.

How it fits Rucio 41's conveyor (submitter -> poller -> finisher):

* ``submit`` only records a *job file* (``<state_dir>/transfers/<job id>.json``):
  for each request its source and destination PFNs and when it is *due*: at once,
  or ``tape_delay_s`` after submission when the source RSE is a ``cold`` area
  (a tape recall). A file, not memory, so a restarted daemon process carries on.
* ``bulk_query`` (the poller) copies the due files (temp file, then rename),
  checks size and adler32 against the request's catalogue values, and reports
  DONE (or FAILED with a reason); requests not yet due are left SUBMITTED, which
  is what makes the recall observable as a rule in REPLICATING.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rucio.db.sqla.constants import RequestState
from rucio.transfertool.mock import MockTransfertool
from rucio.transfertool.transfertool import TransferStatusReport

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from rucio.core.request import DirectTransfer

log = logging.getLogger(__name__)


def adler32_of(path: Path) -> str:
    """Rucio's checksum format: 8 lower-case hex digits."""
    value = 1
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            value = zlib.adler32(chunk, value)
    return f"{value & 0xFFFFFFFF:08x}"


def pfn_path(pfn: str) -> Path:
    """The local path of a ``file://localhost/...`` PFN."""
    return Path(urlparse(pfn).path)


def copy_file(src: Path, dst: Path) -> None:
    """Copy through a temporary name and rename, so a reader never sees half a file."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex}.part")
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            while chunk := fin.read(1 << 20):
                fout.write(chunk)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


class CopyStatusReport(TransferStatusReport):
    """The outcome of one request, in the fields the poller writes to the database."""

    supported_db_fields = ["state", "external_id", "err_msg", "transferred_at"]

    def __init__(self, request_id: str, external_id: str, state: RequestState, err_msg: str | None = None):
        super().__init__(request_id)
        self.state = state
        self.external_id = external_id
        self.err_msg = err_msg
        self.transferred_at = None
        if state == RequestState.DONE:
            import datetime

            self.transferred_at = datetime.datetime.utcnow()

    def initialize(self, session: Any, logger: Any = logging.log) -> None:
        pass

    def get_monitor_msg_fields(self, session: Any, logger: Any = logging.log) -> dict[str, Any]:
        return {}


class CopyingTransfertool(MockTransfertool):
    """The ``mock`` transfertool, made to copy bytes; configure with :meth:`configure` first."""

    jobs_dir: Path = Path("/nonexistent")
    cold_rses: frozenset[str] = frozenset()
    tape_delay_s: float = 0.0

    @classmethod
    def configure(cls, state_dir: Path, cold_rses: Iterable[str], tape_delay_s: float) -> None:
        cls.jobs_dir = Path(state_dir) / "transfers"
        cls.jobs_dir.mkdir(parents=True, exist_ok=True)
        cls.cold_rses = frozenset(cold_rses)
        cls.tape_delay_s = float(tape_delay_s)

    def submit(
        self, transfers: Iterable[DirectTransfer], job_params: dict[str, str], timeout: int | None = None
    ) -> str:
        job_id = str(uuid.uuid1())
        now = time.time()
        files = {}
        for transfer in transfers:
            src = transfer.src
            delay = self.tape_delay_s if src.rse.name in self.cold_rses else 0.0
            files[transfer.rws.request_id] = {
                "source": transfer.source_url(src),
                "dest": transfer.dest_url,
                "due": now + delay,
            }
        job = self.jobs_dir / f"{job_id}.json"
        job.write_text(json.dumps(files))
        log.info("job %s: %d file(s) submitted", job_id, len(files))
        return job_id

    def bulk_query(
        self, requests_by_eid: Mapping[str, Mapping[str, Any]], timeout: int | None = None
    ) -> dict[str, Any]:
        response: dict[str, Any] = {}
        now = time.time()
        for job_id, requests in requests_by_eid.items():
            job = self.jobs_dir / f"{job_id}.json"
            try:
                files = json.loads(job.read_text())
            except FileNotFoundError:
                response[job_id] = None  # unknown job: Rucio marks it lost and retries
                continue
            reports = {}
            for request_id, request in requests.items():
                entry = files.get(str(request_id))
                if entry is None:
                    reports[request_id] = CopyStatusReport(request_id, job_id, RequestState.FAILED, "unknown request")
                elif entry["due"] <= now:
                    reports[request_id] = self._copy(request_id, job_id, entry, request)
            response[job_id] = reports
            if len(reports) == len(requests) and all(
                str(r) not in files or files[str(r)]["due"] <= now for r in requests
            ):
                job.unlink(missing_ok=True)
        return response

    def _copy(
        self, request_id: str, job_id: str, entry: dict[str, Any], request: Mapping[str, Any]
    ) -> CopyStatusReport:
        src, dst = pfn_path(entry["source"]), pfn_path(entry["dest"])
        try:
            copy_file(src, dst)
        except OSError as err:
            return CopyStatusReport(request_id, job_id, RequestState.FAILED, f"copy {src} -> {dst}: {err}")
        size, checksum = dst.stat().st_size, adler32_of(dst)
        expected_size, expected_adler = request.get("bytes"), request.get("adler32")
        if (expected_size is not None and size != expected_size) or (expected_adler and checksum != expected_adler):
            dst.unlink(missing_ok=True)
            return CopyStatusReport(
                request_id,
                job_id,
                RequestState.FAILED,
                f"checksum mismatch: {size} bytes/{checksum}, catalogue {expected_size}/{expected_adler}",
            )
        return CopyStatusReport(request_id, job_id, RequestState.DONE)

    def cancel(self, transfer_ids: Any, timeout: int | None = None) -> bool:
        for job_id in transfer_ids:
            (self.jobs_dir / f"{job_id}.json").unlink(missing_ok=True)
        return True


def install(state_dir: Path, cold_rses: Iterable[str], tape_delay_s: float) -> None:
    """Replace the ``mock`` entry Rucio's conveyor looks up with the copying class (this process only)."""
    from rucio.core import transfer

    CopyingTransfertool.configure(state_dir, cold_rses, tape_delay_s)
    transfer.TRANSFERTOOL_CLASSES_BY_NAME["mock"] = CopyingTransfertool
