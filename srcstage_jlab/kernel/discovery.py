"""Finding the Jupyter server this kernel runs under (the order is in :mod:`srcstage_jlab.client`)."""

from __future__ import annotations

import json
import os
import re
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from .. import messages
from .errors import ENV_TOKEN, ENV_URL, ServerNotFoundError
from .resources import Client
from .transport import DEFAULT_TIMEOUT

PROBE_TIMEOUT = 3.0


def _local_host(url: str) -> str:
    """A bind URL (``http://0.0.0.0:8888/x/``, ``http://:8888/``) as a URL to connect to."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host in ("", "0.0.0.0", "::", "*"):
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        return urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))
    return url


def _hub_ssl(env: dict) -> Any:
    ca, cert, key = (
        env.get(k) for k in ("JUPYTERHUB_SSL_CLIENT_CA", "JUPYTERHUB_SSL_CERTFILE", "JUPYTERHUB_SSL_KEYFILE")
    )
    if not (ca or cert):
        return True
    context = ssl.create_default_context(cafile=ca or None)
    if cert:
        context.load_cert_chain(cert, key or None)
    return context


def running_servers(runtime_dir: str | None = None) -> list[dict]:
    """The runtime files (``jpserver-*.json``) of the Jupyter servers still running.

    Read here rather than through ``jupyter_server.serverapp.list_running_servers``: importing
    the server application costs a kernel about 2.5 s (its JSON-schema validators compile
    grammars at import), on the first srcstage call of every kernel. Unlike it, this never
    deletes a stale file: it belongs to the server that wrote it.
    """
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = jupyter_runtime_dir()
    try:
        names = sorted(os.listdir(runtime_dir))
    except OSError:
        return []
    servers = []
    for name in names:
        if not re.fullmatch(r"jpserver-.+\.json", name):
            continue
        try:
            with open(os.path.join(runtime_dir, name), encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError):
            continue  # being written, or not ours to read
        if isinstance(info, dict) and _alive(info.get("pid")):
            servers.append(info)
    return servers


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name == "nt":
        return True  # signal 0 is not a probe on Windows; a dead server fails the probe instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but alive
    return True


def _probe(url: str, token: str | None, uds: str | None = None) -> bool:
    """True if the server at ``url`` answers ``GET /srcstage/config``."""
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        transport = httpx.HTTPTransport(uds=uds) if uds else None
        with httpx.Client(timeout=PROBE_TIMEOUT, transport=transport, trust_env=False) as http:
            return http.get(url.rstrip("/") + "/srcstage/config", headers=headers).status_code == 200
    except httpx.HTTPError:
        return False


def _runtime_client(info: dict, found_by: str, timeout: float) -> Client:
    uds = info.get("sock") or None
    if uds:
        url = "http://localhost" + (info.get("base_url") or "/")
    else:
        url = _local_host(info.get("url") or f"http://127.0.0.1:{info.get('port')}{info.get('base_url') or '/'}")
    return Client(url, info.get("token") or None, timeout=timeout, uds=uds, found_by=found_by)


def discover(
    env: dict | None = None,
    *,
    runtime_dir: str | None = None,
    ppid: int | None = None,
    probe: Callable[[str, str | None, str | None], bool] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Client:
    """Find the Jupyter server this code runs under (see the module docs for the order).

    Raises :class:`ServerNotFoundError` saying what was looked at and how to point to a server.
    """
    env = os.environ if env is None else env
    probe = probe or _probe
    url = env.get(ENV_URL, "").strip()
    if url:
        return Client(url, env.get(ENV_TOKEN) or None, timeout=timeout, found_by=f"${ENV_URL}")

    hub_token = env.get("JUPYTERHUB_API_TOKEN") or env.get("JPY_API_TOKEN")
    service_url, prefix = env.get("JUPYTERHUB_SERVICE_URL", ""), env.get("JUPYTERHUB_SERVICE_PREFIX", "")
    if hub_token and service_url:
        return Client(
            _local_host(service_url),
            hub_token,
            timeout=timeout,
            verify=_hub_ssl(env),
            found_by="$JUPYTERHUB_SERVICE_URL",
        )

    servers = running_servers(runtime_dir)
    ppid = os.getppid() if ppid is None else ppid
    if hub_token and prefix:
        # Only the prefix: the port comes from the server's runtime file, else Jupyter's default.
        same = [s for s in servers if (s.get("base_url") or "/") == prefix]
        info = next((s for s in same if s.get("pid") == ppid), same[0] if len(same) == 1 else None)
        if info:
            client = _runtime_client(info, messages.FOUND_BY_HUB_PREFIX_AND_RUNTIME_FILE, timeout)
            client.token = hub_token
            return client
        return Client(
            f"http://127.0.0.1:8888{prefix}",
            hub_token,
            timeout=timeout,
            verify=_hub_ssl(env),
            found_by=messages.FOUND_BY_HUB_PREFIX,
        )

    parent = [s for s in servers if s.get("pid") == ppid]
    if parent:
        return _runtime_client(parent[0], messages.FOUND_BY_PARENT_RUNTIME_FILE, timeout)
    answering = [
        s for s in servers if probe(_runtime_client(s, "", timeout).url, s.get("token") or None, s.get("sock") or None)
    ]
    if len(answering) == 1:
        return _runtime_client(answering[0], messages.FOUND_BY_ONLY_SERVER, timeout)

    from jupyter_core.paths import jupyter_runtime_dir

    where = runtime_dir or jupyter_runtime_dir()
    if answering:
        listed = ", ".join(_runtime_client(s, "", timeout).url for s in answering)
        raise ServerNotFoundError(messages.SEVERAL_SERVERS.format(listed=listed), code="server_not_found")
    raise ServerNotFoundError(
        messages.NO_SERVER_FOUND.format(env_url=ENV_URL, count=len(servers), where=where),
        code="server_not_found",
    )
