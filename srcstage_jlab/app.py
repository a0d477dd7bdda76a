"""The Jupyter server extension: configuration (traitlets on `SrcStage`) and start-up.

Every option is settable as `c.SrcStage.<name>` in jupyter_server_config.py or
`--SrcStage.<name>=...` on the command line; docs/operator-guide.md is generated
from the `help=` texts below.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, Unicode, default

from . import messages
from .routes import route_table
from .service import StagingService
from .srcnet.data_management import DEFAULT_ROUTES, OPTIONAL

SRCNET = "https://{service}.srcnet.skao.int/api/v1"


class SrcStage(ExtensionApp):
    name = "srcstage_jlab"
    description = "Stage SRCNet data next to this JupyterLab's kernels."
    load_other_extensions = True

    # --- SRCNet services ---
    auth_api_url = Unicode(
        SRCNET.format(service="authn"), config=True, help="Base URL of the SRCNet Auth API (with its /api/v1 prefix)."
    )
    site_capabilities_api_url = Unicode(
        SRCNET.format(service="site-capabilities"), config=True, help="Base URL of the SRCNet Site Capabilities API."
    )
    data_management_api_url = Unicode(
        SRCNET.format(service="data-management"), config=True, help="Base URL of the SRCNet Data Management API."
    )
    dm_routes = Dict(
        config=True,
        help=(
            "Overrides of Data Management API routes, operation -> 'METHOD /path/{param}', e.g. "
            f"{{'stage': 'POST /data/stage'}}. Operations: {', '.join(DEFAULT_ROUTES)}. An optional operation "
            f"({', '.join(OPTIONAL)}) set to '' is not served: the extension does without it (e.g. stages "
            "by the confirmed staging request alone) instead of asking."
        ),
    )
    state_words = Dict(
        config=True,
        help=(
            "DM staging state words this deployment uses, added to the built-in table: "
            "{word: 'completed' | 'failed' | 'active'}, e.g. {'REPLICATED': 'completed'}. A word in "
            "neither is shown verbatim and never taken for success; the job then completes when "
            "every file has a replica at the destination."
        ),
    )
    request_timeout = Float(15.0, config=True, help="Seconds to wait for any one SRCNet answer.")
    bulk_request_timeout = Float(
        300.0,
        config=True,
        help=(
            "Seconds to wait for DM calls whose work grows with the collection: creating and reading a "
            "collection DID, locating its replicas, listing a namespace, requesting staging."
        ),
    )
    retries = Int(
        5,
        config=True,
        help="Retries of idempotent (or safely repeatable, like the staging request) SRCNet calls after a "
        "time-out or a 5xx answer. Five ride out 30 % transient failures on every service for 99 % of Stage clicks.",
    )

    # --- reading staged files ---
    access = CaselessStrEnum(
        ["auto", "mount", "download"],
        "auto",
        config=True,
        help=(
            "How staged files are read. 'mount': on this server's mount of the destination (c.SrcStage.mounts); "
            "'download': copied into download_dir over the storage's WebDAV with the DM API's download token; "
            "'auto': the mount when there is one, else download."
        ),
    )
    download_dir = Unicode(
        "~/srcnet-downloads",
        config=True,
        help="Where download mode puts staged files (under the user's home; '~' is expanded).",
    )
    storage_ca_file = Unicode(
        "",
        config=True,
        help="CA bundle trusted for the storage's WebDAV in download mode ('' = the system's).",
    )
    download_concurrency = Int(4, config=True, help="Files downloaded at once in download mode.")

    # --- the user's first token ---
    token_source = CaselessStrEnum(
        ["auto", "jupyterhub", "local"],
        "auto",
        config=True,
        help=(
            "Where the user's SRCNet sign-in comes from. 'jupyterhub': the hub's auth state (the token "
            "given at spawn in access_token_env, then GET $JUPYTERHUB_API_URL/users/$JUPYTERHUB_USER with "
            "the server's own hub token whenever it is due for renewal; the hub refreshes it; no token file, "
            "no device flow). 'local': access_token_env, token_file and the device flow. 'auto': "
            "'jupyterhub' when this server runs under a hub (JUPYTERHUB_API_URL, JUPYTERHUB_USER and "
            "JUPYTERHUB_API_TOKEN set), else 'local'."
        ),
    )
    hub_auth_state_key = Unicode(
        "access_token",
        config=True,
        help="Key of the SRCNet access token in the hub's auth state (oauthenticator: 'access_token').",
    )
    hub_request_timeout = Float(10.0, config=True, help="Seconds to wait for the JupyterHub API's answer.")
    access_token_env = Unicode(
        "ACCESS_TOKEN",
        config=True,
        help=(
            "Environment variable holding the user's SRCNet access token. Read at start and whenever it "
            "reappears, then removed from the environment so kernels never inherit it. Empty: not used."
        ),
    )
    refresh_token_env = Unicode(
        "REFRESH_TOKEN", config=True, help="Environment variable holding the matching refresh token."
    )
    token_file = Unicode(
        "",
        config=True,
        help=(
            "File holding the user's SRCNet token: JSON {'access_token', 'refresh_token'} or the access token "
            "alone. Re-read whenever it changes (e.g. a JupyterHub refreshing it). Empty: not used."
        ),
    )
    device_flow = Bool(True, config=True, help="Let users sign in from the sidebar with the Auth API's device flow.")
    token_refresh_margin = Float(
        60.0,
        config=True,
        help=("Refresh or re-exchange a token when fewer than this many seconds of its life are left."),
    )

    # --- where data goes ---
    destination_storage_area_id = Unicode(
        "", config=True, help=("Site Capabilities storage area id to stage to. Empty: found from this hub's identity.")
    )
    destination_rse = Unicode(
        "",
        config=True,
        help=("RSE name of the storage area to stage to (used when destination_storage_area_id is empty)."),
    )
    jupyterhub_service_id = Unicode(
        "", config=True, help=("Site Capabilities id of the JupyterHub service this server belongs to.")
    )
    jupyterhub_host = Unicode(
        "",
        config=True,
        help=(
            "Host name of this JupyterHub as Site Capabilities lists it. Default: from JUPYTERHUB_PUBLIC_URL, "
            "JUPYTERHUB_PUBLIC_HUB_URL or JUPYTERHUB_HOST."
        ),
    )
    site_name = Unicode(
        "",
        config=True,
        help=("Site Capabilities site name to take an active 'rse' area from when the hub is not listed."),
    )
    destination_cache_s = Float(
        300.0, config=True, help="Seconds a discovered destination is reused before asking again."
    )
    mounts = Dict(
        config=True,
        help=(
            "Where this server sees each storage area's files: {RSE name or area id: local directory}. "
            "The directory corresponds to the area's root (storage base_path + area relative_path)."
        ),
    )

    # --- policy and behaviour ---
    default_lifetime = Unicode(
        "7d", config=True, help="Lifetime of a staging request when the user gives none (e.g. '7d', '12h', seconds)."
    )
    max_lifetime = Unicode(
        "30d",
        config=True,
        help=("Longest lifetime users may ask for. The DM API may allow less; its refusal is shown verbatim."),
    )
    collection_namespace = Unicode(
        "",
        config=True,
        help=("Namespace for new collection DIDs. Empty: the user's own namespace from their IAM groups."),
    )
    poll_interval = Float(2.0, config=True, help="Seconds between DM status calls for an active job, at first.")
    max_poll_interval = Float(
        30.0,
        config=True,
        help=(
            "Longest wait between status calls of a job someone watches (a visible JupyterLab tab, a "
            "waiting job.wait()); shorter for young jobs, so that completion shows within "
            "max(5 s, 10 % of the job's age)."
        ),
    )
    idle_poll_interval = Float(
        120.0,
        config=True,
        help=(
            "Longest wait between status calls of a job no one watches. When someone looks again, "
            "the job is polled at once."
        ),
    )
    state_dir = Unicode(config=True, help="Directory where collections and tracked jobs are kept.")

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "srcstage")

    def under_hub(self) -> bool:
        if self.token_source == "local":
            return False
        present = all(os.environ.get(v) for v in ("JUPYTERHUB_API_URL", "JUPYTERHUB_USER", "JUPYTERHUB_API_TOKEN"))
        if self.token_source == "jupyterhub" and not present:
            raise ValueError(messages.TOKEN_SOURCE_HUB_WITHOUT_HUB_ENV)
        return present

    def hub_host(self) -> str:
        if self.jupyterhub_host:
            return self.jupyterhub_host
        for var in ("JUPYTERHUB_PUBLIC_URL", "JUPYTERHUB_PUBLIC_HUB_URL", "JUPYTERHUB_HOST"):
            value = os.environ.get(var, "")
            if value:
                return urlsplit(value).hostname or value
        return ""

    def initialize_settings(self) -> None:
        self.service = StagingService(self, self.log)
        self.settings["srcstage"] = self.service
        # Start job pollers once the server's event loop runs.
        from tornado.ioloop import IOLoop

        IOLoop.current().add_callback(self.service.start)

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def stop_extension(self) -> None:
        await self.service.stop()
