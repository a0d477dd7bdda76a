"""The sandbox's fixed facts and run-time settings, in one place.

Every other sandbox module reads users, namespaces and storage areas from here:
the seed, the Rucio accounts, the Site Capabilities topology and the DM policies
must agree, so none of them spells these names twice.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

# --- Users -----------------------------------------------------------------
# An SRCNet user of the sandbox, the IAM groups their tokens carry, and the
# Rucio account the DM API acts as on their behalf.


@dataclasses.dataclass(frozen=True)
class SandboxUser:
    username: str  # preferred_username and Rucio account name
    name: str  # display name
    subject: str  # the token's `sub`
    groups: tuple[str, ...]  # IAM groups, e.g. data/namespaces/<ns>/owner
    rucio_password: str  # userpass identity of the Rucio account (sandbox only)
    login_password: str = ""  # the IAM stand-in's login page (OIDC sign-in through a hub)

    @property
    def owned_namespaces(self) -> tuple[str, ...]:
        prefix, suffix = "data/namespaces/", "/owner"
        return tuple(g[len(prefix) : -len(suffix)] for g in self.groups if g.startswith(prefix) and g.endswith(suffix))


def owner_group(namespace: str) -> str:
    return f"data/namespaces/{namespace}/owner"


DEMO_NAMESPACE = "user.demo"  # the demo user's own namespace: collections go here
OBSERVATIONS_NAMESPACE = "ska-mid"  # observatory data, read-only to the demo user
SCALE_NAMESPACE = "ska-low"  # holds the container of a few thousand small files
OTHER_USER_NAMESPACE = "user.bob"

USERS: tuple[SandboxUser, ...] = (
    SandboxUser(
        username="demo",
        name="Demo Astronomer",
        subject="2f6b1c2e-5d7a-4a34-9a0e-7f3c9d1e0001",
        groups=(owner_group(DEMO_NAMESPACE),),
        rucio_password="sandbox-demo-secret",
        login_password="demo-password",
    ),
    SandboxUser(
        username="bob",
        name="Bob Other",
        subject="2f6b1c2e-5d7a-4a34-9a0e-7f3c9d1e0002",
        groups=(owner_group(OTHER_USER_NAMESPACE),),
        rucio_password="sandbox-bob-secret",
        login_password="bob-password",
    ),
    SandboxUser(
        username="skaops",
        name="SKA Data Operations",
        subject="2f6b1c2e-5d7a-4a34-9a0e-7f3c9d1e0003",
        groups=(
            owner_group(OBSERVATIONS_NAMESPACE),
            owner_group(SCALE_NAMESPACE),
            "services/data-management-api/roles/admin",
        ),
        rucio_password="sandbox-skaops-secret",
        login_password="skaops-password",
    ),
)
DEMO_USER = USERS[0]


def user_by_name(username: str) -> SandboxUser | None:
    return next((u for u in USERS if u.username == username), None)


# --- Storage areas (Rucio RSEs) ---------------------------------------------
# `kind` says what the area is for in the story; `type` is the Site
# Capabilities area type. Every area that is an RSE in Rucio has a directory
# under <state_dir>/storage/<RSE>/ which is its `file://` protocol prefix.


@dataclasses.dataclass(frozen=True)
class SandboxArea:
    id: str  # Site Capabilities storage area UUID
    name: str  # RSE name
    type: str  # "rse" | "ingest"
    site: str
    node: str
    tier: int
    cold: bool = False  # transfers *from* it wait `tape_delay_s` (tape recall)
    downtime_now: bool = False  # an Unplanned downtime covering "now"
    force_disabled: bool = False
    # The demo user's Rucio quota on this area, in bytes (0 = none).
    demo_quota_bytes: int = 0


LOCAL_NODE, LOCAL_SITE = "SANDBOXSRC", "SANDBOXSRC-LOCAL"
REMOTE_NODE, REMOTE_SITE = "FARSRC", "FARSRC-ARCHIVE"

AREAS: tuple[SandboxArea, ...] = (
    # Next to the compute that runs the JupyterHub: the staging destination.
    SandboxArea(
        "6f1d3c1a-1b2c-4d5e-8f90-000000000001",
        "SANDBOX_LOCAL",
        "rse",
        LOCAL_SITE,
        LOCAL_NODE,
        tier=1,
        demo_quota_bytes=64 * 1024**2,
    ),
    # Same storage, but an ingest area: never a staging target.
    SandboxArea("6f1d3c1a-1b2c-4d5e-8f90-000000000002", "SANDBOX_INGEST", "ingest", LOCAL_SITE, LOCAL_NODE, tier=1),
    # Retired by the operators: force-disabled.
    SandboxArea(
        "6f1d3c1a-1b2c-4d5e-8f90-000000000003",
        "SANDBOX_OLD",
        "rse",
        LOCAL_SITE,
        LOCAL_NODE,
        tier=1,
        force_disabled=True,
        demo_quota_bytes=64 * 1024**2,
    ),
    # The remote archive: cold, tape-like storage where most data lives.
    SandboxArea("6f1d3c1a-1b2c-4d5e-8f90-000000000004", "FAR_TAPE", "rse", REMOTE_SITE, REMOTE_NODE, tier=2, cold=True),
    # Remote disk, currently in an unplanned downtime.
    SandboxArea(
        "6f1d3c1a-1b2c-4d5e-8f90-000000000005",
        "FAR_DISK",
        "rse",
        REMOTE_SITE,
        REMOTE_NODE,
        tier=1,
        downtime_now=True,
        demo_quota_bytes=64 * 1024**2,
    ),
)
LOCAL_AREA = AREAS[0]
COLD_AREA = AREAS[3]


def area_by_name(name: str) -> SandboxArea | None:
    return next((a for a in AREAS if a.name == name), None)


def area_by_id(area_id: str) -> SandboxArea | None:
    return next((a for a in AREAS if a.id == area_id), None)


# The local compute's JupyterHub, as Site Capabilities lists it. Like most real
# hubs it has no associated storage area; its sibling `prepare_data` service does.
JUPYTERHUB_HOST = "jupyterhub.sandboxsrc.local"

# Audiences (service names) as the Auth API exchanges them.
AUTH_AUDIENCE = "authn-api"
SITE_CAPABILITIES_AUDIENCE = "site-capabilities-api"
DATA_MANAGEMENT_AUDIENCE = "data-management-api"
SERVICE_AUDIENCES = (SITE_CAPABILITIES_AUDIENCE, DATA_MANAGEMENT_AUDIENCE)

# The OIDC client a JupyterHub in front of the sandbox registers as (its secret is made at start).
HUB_CLIENT_ID = "srcstage-jupyterhub"


# --- Run-time settings --------------------------------------------------------


@dataclasses.dataclass
class SandboxConfig:
    state_dir: Path
    host: str = "127.0.0.1"
    # 0 = pick a free port at start.
    auth_port: int = 0
    site_capabilities_port: int = 0
    data_management_port: int = 0
    control_port: int = 0  # the control app (fault switches, /stats)
    rucio_port: int = 0
    postgres_port: int = 0
    access_token_lifetime_s: int = 3600
    refresh_token_lifetime_s: int = 86400
    max_stage_lifetime_s: int = 30 * 86400  # the DM policy's cap on a rule's lifetime
    tape_delay_s: float = 5.0  # how long a transfer from a cold area waits (recall)
    daemon_interval_s: float = 1.0
    scale_files: int = 3000  # files in the scale container
    dm_profile: str = "full"  # "confirmed": only the public DM contract (see data_management.py)

    @property
    def storage_dir(self) -> Path:
        return self.state_dir / "storage"

    def area_dir(self, area: SandboxArea) -> Path:
        """The directory that is the area's `file://` prefix (and the local mount)."""
        return self.storage_dir / area.name
