"""Scripted SRCNet answers for the fast lane: our real HTTP clients over httpx.MockTransport.

Only the network is replaced: each test's handler plays the SRCNet service and records what
it was asked, and every other part (ServiceClient, TokenBroker, JobTracker, StagingService)
is the production code.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from unittest import mock

import httpx

from srcstage_jlab.srcnet.http import ServiceClient

LOG = logging.getLogger("srcstage.unit")


@contextmanager
def mock_network(handler: Callable[[httpx.Request], httpx.Response]):
    """While active, every httpx.AsyncClient made (by our code) answers through ``handler``."""
    real = httpx.AsyncClient

    def make(*args, **kwargs):
        kwargs["transport"] = httpx.MockTransport(handler)
        return real(*args, **kwargs)

    with mock.patch.object(httpx, "AsyncClient", make):
        yield


def service_client(service: str, handler, *, retries: int = 2, timeout: float = 5.0) -> ServiceClient:
    with mock_network(handler):
        return ServiceClient(service, f"http://{service}.test/api/v1", timeout=timeout, retries=retries, log=LOG)


def jwt(**claims) -> str:
    """An unsigned JWT with these claims (the extension reads, never verifies, claims)."""

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


def token(subject: str, lifetime_s: float = 3600, **claims) -> str:
    return jwt(sub=subject, jti=subject, exp=int(time.time() + lifetime_s), **claims)


def answer(status: int = 200, body=None) -> httpx.Response:
    return httpx.Response(status, json=body) if body is not None else httpx.Response(status)


def scripted_settings(token_env: str, **traits):
    """The extension's own settings (its traitlets and helpers) pointed at the scripted services,
    with the access token read from the environment variable `token_env`; `traits` add the rest."""
    from srcstage_jlab.app import SrcStage

    return SrcStage(
        auth_api_url="http://auth.test",
        site_capabilities_api_url="http://sc.test",
        data_management_api_url="http://dm.test",
        access_token_env=token_env,
        refresh_token_env="",
        token_file="",
        retries=0,
        **traits,
    )
