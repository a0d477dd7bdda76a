"""The sandbox's Rucio content: accounts, scopes, RSEs, quotas and sample data with real bytes.

:func:`catalogue` describes the sample data (names, files, sizes, where each
dataset lives) without touching anything, so tests can import it instead of
hard-coding numbers; :func:`summary` gives the same as plain dicts.
:func:`seed` writes it all once per state dir (a marker file says it is done).

The seed uses Rucio's core functions in-process (no permission checks, no HTTP):
the caller must have set ``RUCIO_CONFIG`` before importing Rucio. Files are
written at the paths Rucio's deterministic layout gives (asked of Rucio itself,
via ``lfns2pfns``) and registered with their size and adler32.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import random
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from .config import (
    AREAS,
    COLD_AREA,
    DEMO_NAMESPACE,
    LOCAL_AREA,
    OBSERVATIONS_NAMESPACE,
    OTHER_USER_NAMESPACE,
    SCALE_NAMESPACE,
    USERS,
    SandboxConfig,
)

log = logging.getLogger(__name__)

MARKER = "seeded"
OPS_ACCOUNT = "skaops"
# Scope -> owning account (the namespace's owner group in config.USERS).
SCOPE_OWNERS = {
    DEMO_NAMESPACE: "demo",
    OTHER_USER_NAMESPACE: "bob",
    OBSERVATIONS_NAMESPACE: OPS_ACCOUNT,
    SCALE_NAMESPACE: OPS_ACCOUNT,
}
UNLIMITED_BYTES = 1 << 50  # "unlimited-ish" quota for skaops, bob and root
FAR_DISK = "FAR_DISK"
SCALE_DATASET_FILES = 500  # files per dataset in the scale container
BIG_FILE_BYTES = 80 * 1024**2  # > demo's 64 MiB quota on SANDBOX_LOCAL


# --- The catalogue -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SampleFile:
    scope: str
    name: str
    make: Callable[[], bytes]  # deterministic content
    size: int  # len(make()), known without building the bytes

    def content(self) -> bytes:
        return self.make()


@dataclasses.dataclass(frozen=True)
class SampleDataset:
    scope: str
    name: str
    files: tuple[SampleFile, ...]
    rses: tuple[str, ...]  # where its replicas are

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclasses.dataclass(frozen=True)
class SampleContainer:
    scope: str
    name: str
    datasets: tuple[SampleDataset, ...]


@dataclasses.dataclass(frozen=True)
class Catalogue:
    datasets: tuple[SampleDataset, ...]  # including those in containers
    containers: tuple[SampleContainer, ...]
    loose_files: tuple[tuple[SampleFile, str], ...]  # (file, RSE): files in no dataset


@functools.lru_cache(maxsize=64)  # sizes, and files on two RSEs, ask for the same bytes again
def _table(title: str, seed: int, rows: int) -> bytes:
    """A CSV table a notebook can read: visibility samples of one observation product."""
    rng = random.Random(seed)
    lines = [f"# {title}", "time_s,frequency_mhz,baseline_m,amplitude_jy,phase_deg,flag"]
    for i in range(rows):
        lines.append(
            f"{i * 0.5:.1f},{350 + (i % 64) * 2.5:.1f},{rng.uniform(30, 4000):.2f},"
            f"{rng.lognormvariate(0, 0.6):.5f},{rng.uniform(-180, 180):.2f},{int(rng.random() < 0.03)}"
        )
    return ("\n".join(lines) + "\n").encode()


def _text_file(scope: str, name: str, make: Callable[[], bytes]) -> SampleFile:
    return SampleFile(scope, name, make, len(make()))


def _observation(number: int, n_files: int, rses: tuple[str, ...]) -> SampleDataset:
    ds = f"obs-2026-{number:04d}"
    files = []
    for k in range(1, n_files + 1):
        rows = 100 + ((number * 7 + k * 13) % 20) * 200  # 100..3900 rows: ~6 KB to ~200 KB
        title = f"{OBSERVATIONS_NAMESPACE}:{ds} product {k} of {n_files} (SKA-Mid, sandbox data)"
        files.append(
            _text_file(
                OBSERVATIONS_NAMESPACE,
                f"{ds}.vis-{k:02d}.csv",
                functools.partial(_table, title, number * 1000 + k, rows),
            )
        )
    return SampleDataset(OBSERVATIONS_NAMESPACE, ds, tuple(files), rses)


def _random_bytes(seed: int, size: int) -> bytes:
    """Incompressible-looking bytes, fast: one random MiB, each repetition rotated by one byte."""
    block = random.Random(seed).randbytes(1 << 20)
    out = bytearray()
    i = 0
    while len(out) < size:
        out += block[i:] + block[:i]
        i += 1
    return bytes(out[:size])


def _scale_line(i: int) -> bytes:
    head = f"# {SCALE_NAMESPACE} scale-test file {i:05d}\n".encode()
    return head + (f"{i:05d} " * 200).encode()[: 1024 - len(head) - 1] + b"\n"


def _note(i: int) -> bytes:
    return (f"Notes {i}: things to look at in the SKA-Mid survey.\n" * (20 * i)).encode()


@functools.lru_cache(maxsize=4)
def catalogue(scale_files: int = SandboxConfig.scale_files) -> Catalogue:
    """Everything the seed registers; pure (no I/O), so tests can import it."""
    tape, local = COLD_AREA.name, LOCAL_AREA.name
    obs = (
        _observation(1, 5, (tape,)),  # only on tape: staging it waits for the recall
        _observation(2, 5, (local, tape)),  # already next to the hub
        _observation(3, 4, (FAR_DISK, tape)),  # on a disk in downtime, and on tape
    )
    survey = SampleContainer(OBSERVATIONS_NAMESPACE, "survey-2026", obs)
    big = SampleDataset(
        OBSERVATIONS_NAMESPACE,
        "deep-field-cube",
        (
            SampleFile(
                OBSERVATIONS_NAMESPACE,
                "deep-field-cube.f32",
                functools.partial(_random_bytes, 80, BIG_FILE_BYTES),
                BIG_FILE_BYTES,
            ),
        ),
        (tape,),
    )
    scale_sets = []
    for start in range(0, scale_files, SCALE_DATASET_FILES):
        files = tuple(
            SampleFile(SCALE_NAMESPACE, f"scale-{i:05d}.txt", functools.partial(_scale_line, i), 1024)
            for i in range(start + 1, min(start + SCALE_DATASET_FILES, scale_files) + 1)
        )
        scale_sets.append(SampleDataset(SCALE_NAMESPACE, f"scale-test-{len(scale_sets) + 1:03d}", files, (tape,)))
    scale = SampleContainer(SCALE_NAMESPACE, "scale-test", tuple(scale_sets))
    notes = tuple(
        (_text_file(DEMO_NAMESPACE, f"notes-{i:04d}.txt", functools.partial(_note, i)), local) for i in (1, 2, 3)
    )
    return Catalogue(datasets=(*obs, big, *scale_sets), containers=(survey, scale), loose_files=notes)


# Pointings of the sample observations (ICRS degrees), one per observation number.
_TARGETS = {1: ("NGC 253", 11.888, -25.288), 2: ("Fornax A", 50.674, -37.208), 3: ("47 Tuc", 6.024, -72.081)}


def science_metadata(scale_files: int = SandboxConfig.scale_files) -> dict[str, dict]:
    """``{"scope:name": {...}}``: the science metadata (ObsCore-like keys) the seed registers with
    Rucio's POSTGRES_JSON plugin; pure, so tests compare against it. The demo user's notes have none."""
    cat = catalogue(scale_files)
    out: dict[str, dict] = {}
    for ds in cat.datasets:
        if ds.scope != OBSERVATIONS_NAMESPACE:
            continue
        if ds.name.startswith("obs-"):
            number = int(ds.name.rsplit("-", 1)[1])
            target, ra, dec = _TARGETS.get(number, ("Field", 0.0, 0.0))
            base = {
                "obs_id": f"eb-sandbox-2026{number:04d}",
                "obs_collection": "SKA-Mid sandbox survey 2026",
                "facility_name": "SKA",
                "instrument_name": "SKA-Mid",
                "target_name": target,
                "s_ra": ra,
                "s_dec": dec,
                "freq_min_hz": 350.0e6,
                "freq_max_hz": 507.5e6,
                "t_min": f"2026-0{number}-1{number}T20:00:00Z",
                "t_max": f"2026-0{number}-1{number}T23:30:00Z",
                "calib_level": 2,
            }
            out[f"{ds.scope}:{ds.name}"] = {**base, "dataproduct_type": "visibility", "files": len(ds.files)}
            for k, f in enumerate(ds.files, 1):
                out[f"{f.scope}:{f.name}"] = {**base, "dataproduct_type": "visibility", "product": k}
        else:  # the deep-field cube
            cube = {
                "obs_id": "eb-sandbox-20260099",
                "facility_name": "SKA",
                "instrument_name": "SKA-Mid",
                "target_name": "Deep field",
                "s_ra": 53.16,
                "s_dec": -27.78,
                "freq_min_hz": 950.0e6,
                "freq_max_hz": 1420.0e6,
                "t_min": "2026-05-01T18:00:00Z",
                "t_max": "2026-05-02T02:00:00Z",
                "dataproduct_type": "cube",
                "calib_level": 3,
            }
            out[f"{ds.scope}:{ds.name}"] = cube
            out[f"{ds.files[0].scope}:{ds.files[0].name}"] = cube
    for c in cat.containers:
        if c.scope == OBSERVATIONS_NAMESPACE:
            out[f"{c.scope}:{c.name}"] = {
                "obs_collection": "SKA-Mid sandbox survey 2026",
                "facility_name": "SKA",
                "instrument_name": "SKA-Mid",
                "freq_min_hz": 350.0e6,
                "freq_max_hz": 507.5e6,
                "observations": [d.name for d in c.datasets],
            }
    return out


def summary(config: SandboxConfig | None = None) -> dict[str, dict]:
    """``{"scope:name": {"type", "files", "bytes", "rses"?, "children"?}}`` for every sample DID."""
    cat = catalogue(config.scale_files if config else SandboxConfig.scale_files)
    out: dict[str, dict] = {}
    for ds in cat.datasets:
        out[f"{ds.scope}:{ds.name}"] = {
            "type": "dataset",
            "files": len(ds.files),
            "bytes": ds.bytes,
            "rses": list(ds.rses),
        }
    for c in cat.containers:
        out[f"{c.scope}:{c.name}"] = {
            "type": "container",
            "files": sum(len(d.files) for d in c.datasets),
            "bytes": sum(d.bytes for d in c.datasets),
            "children": [f"{d.scope}:{d.name}" for d in c.datasets],
        }
    for f, rse in cat.loose_files:
        out[f"{f.scope}:{f.name}"] = {"type": "file", "files": 1, "bytes": f.size, "rses": [rse]}
    return out


def _seed_science_metadata(config: SandboxConfig) -> None:
    """Register the science metadata through Rucio's POSTGRES_JSON plugin (it commits itself)."""
    from rucio.common.types import InternalScope
    from rucio.core import did_meta_plugins

    plugin = next(p for p in did_meta_plugins.METADATA_PLUGIN_MODULES if p.is_named("POSTGRES_JSON"))
    for did, meta in science_metadata(config.scale_files).items():
        scope, name = did.split(":", 1)
        plugin.set_metadata_bulk(InternalScope(scope), name, meta)


# --- Writing it into Rucio -------------------------------------------------------


def _protocol(config: SandboxConfig, area) -> dict:
    both = {"read": 1, "write": 1, "delete": 1}
    return {
        "scheme": "file",
        "hostname": "localhost",
        "port": 0,
        "prefix": str(config.area_dir(area)) + "/",
        "impl": "rucio.rse.protocols.posix.Default",
        "domains": {
            "lan": dict(both),
            "wan": {**both, "third_party_copy_read": 1, "third_party_copy_write": 1},
        },
    }


def seed(config: SandboxConfig) -> bool:
    """Seed once per state dir; returns False when the marker says it was done."""
    marker = config.state_dir / "rucio" / MARKER
    if marker.exists():
        return False
    from rucio.common.types import InternalAccount, InternalScope
    from rucio.core import account as account_core
    from rucio.core import account_limit, distance, identity
    from rucio.core import rse as rse_core
    from rucio.core import scope as scope_core
    from rucio.core.did import add_did, attach_dids
    from rucio.core.replica import add_replicas
    from rucio.db.sqla.constants import AccountType, DIDType, IdentityType
    from rucio.db.sqla.session import get_engine, get_session
    from rucio.rse import rsemanager

    t0 = time.monotonic()
    # Two transactions (accounts..quotas, then data): few round trips; no marker unless both commit.
    # SQLAlchemy's "insertmanyvalues" renders one huge INSERT per batch, which psycopg
    # then parses; plain executemany (psycopg's pipeline) halves add_replicas' time.
    engine = get_engine()
    engine.dialect.use_insertmanyvalues = False
    scoped = get_session()
    session = scoped()
    session.begin()
    db = {"session": session}
    try:
        for user in USERS:
            acc = InternalAccount(user.username)
            email = f"{user.username}@sandboxsrc.local"
            account_core.add_account(acc, AccountType.USER, email, **db)
            identity.add_identity(user.username, IdentityType.USERPASS, email, password=user.rucio_password, **db)
            identity.add_account_identity(
                user.username, IdentityType.USERPASS, acc, email, default=True, password=user.rucio_password, **db
            )
        for scope, owner in SCOPE_OWNERS.items():
            scope_core.add_scope(InternalScope(scope), InternalAccount(owner), **db)

        rse_ids: dict[str, str] = {}
        for area in AREAS:
            config.area_dir(area).mkdir(parents=True, exist_ok=True)
            rse_id = rse_core.add_rse(area.name, deterministic=True, **db)
            rse_ids[area.name] = rse_id
            rse_core.add_protocol(rse_id, _protocol(config, area), **db)
            rse_core.add_rse_attribute(rse_id, "sandbox_area_id", area.id, **db)
            rse_core.add_rse_attribute(rse_id, "sandbox_cold", area.cold, **db)
        for src in AREAS:
            for dst in AREAS:
                if src is not dst:
                    # Cold (tape) sources rank last, so a disk copy is preferred when there is one.
                    distance.add_distance(rse_ids[src.name], rse_ids[dst.name], distance=10 if src.cold else 1, **db)
        for area in AREAS:
            for user in USERS:
                limit = area.demo_quota_bytes if user.username == "demo" else UNLIMITED_BYTES
                if limit > 0:
                    account_limit.set_local_account_limit(
                        InternalAccount(user.username), rse_ids[area.name], limit, **db
                    )
            account_limit.set_local_account_limit(InternalAccount("root"), rse_ids[area.name], UNLIMITED_BYTES, **db)
        t_meta = time.monotonic() - t0
        # Rucio's protocol objects look RSEs up in sessions of their own: commit them first.
        session.commit()
        session.begin()

        settings = {name: rsemanager.get_rse_info(rse=name, rse_id=rid, **db) for name, rid in rse_ids.items()}

        made_dirs: set[Path] = set()

        def register(files: tuple[SampleFile, ...], rse: str, account: str) -> list[dict]:
            """Write the bytes where Rucio expects them, then register the replicas in one call."""
            pfns = rsemanager.lfns2pfns(
                settings[rse], [{"scope": f.scope, "name": f.name} for f in files], operation="write"
            )
            records = []
            for f in files:
                data = f.content()
                path = Path(urlparse(pfns[f"{f.scope}:{f.name}"]).path)
                if path.parent not in made_dirs:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    made_dirs.add(path.parent)
                path.write_bytes(data)
                records.append(
                    {
                        "scope": InternalScope(f.scope),
                        "name": f.name,
                        "bytes": len(data),
                        "adler32": f"{zlib.adler32(data) & 0xFFFFFFFF:08x}",
                    }
                )
            add_replicas(rse_ids[rse], records, InternalAccount(account), **db)
            return records

        cat = catalogue(config.scale_files)
        for ds in cat.datasets:
            owner = SCOPE_OWNERS[ds.scope]
            records = []
            for rse in ds.rses:
                records = register(ds.files, rse, owner)
            add_did(InternalScope(ds.scope), ds.name, DIDType.DATASET, InternalAccount(owner), **db)
            attach_dids(
                InternalScope(ds.scope),
                ds.name,
                [
                    {"scope": r["scope"], "name": r["name"], "bytes": r["bytes"], "adler32": r["adler32"]}
                    for r in records
                ],
                InternalAccount(owner),
                **db,
            )
        for c in cat.containers:
            owner = SCOPE_OWNERS[c.scope]
            add_did(InternalScope(c.scope), c.name, DIDType.CONTAINER, InternalAccount(owner), **db)
            attach_dids(
                InternalScope(c.scope),
                c.name,
                [{"scope": InternalScope(d.scope), "name": d.name} for d in c.datasets],
                InternalAccount(owner),
                **db,
            )
        for f, rse in cat.loose_files:
            register((f,), rse, SCOPE_OWNERS[f.scope])
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        scoped.remove()
        engine.dialect.use_insertmanyvalues = True
    _seed_science_metadata(config)
    marker.write_text("ok\n")
    log.info("seeded in %.1f s (accounts, scopes, RSEs, quotas %.1f s)", time.monotonic() - t0, t_meta)
    return True
