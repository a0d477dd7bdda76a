"""REST handlers under /srcstage/: parse, call the staging service, answer JSON.

The route table at the bottom is the one list of routes (srcstage_jlab/openapi.yaml
describes them). Every handler method is `@tornado.web.authenticated`; a test
fails if one is not. Before a method runs, `answers_errors` checks its input
against its OpenAPI operation (validation.py) and hands it over as `self.input`.
Errors go through `SrcStageHandler.fail`, the one mapping from an exception to an
answer: a JSON body with our message and the SRCNet detail, never a traceback and
never a token.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from . import messages, validation
from .errors import ExtensionError, InvalidInput
from .service import StagingService

NAMESPACE = "srcstage"
LARGE_BODY_BYTES = 256 * 1024


def answers_errors(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Turn any failure inside a handler method into the JSON error answer."""

    @functools.wraps(method)
    async def wrapper(self: SrcStageHandler, *args: Any, **kwargs: Any) -> None:
        try:
            self.input = await self.checked_input(method.__name__, args)
            await method(self, *args, **kwargs)
        except ExtensionError as err:
            self.fail(err)
        except tornado.web.HTTPError as err:  # tornado's own refusals (e.g. a bad argument) stay client errors
            if err.status_code >= 500:
                raise
            self.fail(InvalidInput(err.log_message or err.reason or messages.REQUEST_REFUSED, status=err.status_code))
        except Exception:
            self.log.exception("srcstage: unexpected error in %s %s", self.request.method, self.request.path)
            self.fail(ExtensionError(messages.UNEXPECTED_ERROR))

    return wrapper


class SrcStageHandler(APIHandler):
    api_path = ""  # the OpenAPI path this handler serves; set by route_table()
    input: dict  # the checked query parameters and body fields of the request being handled

    @property
    def service(self) -> StagingService:
        return self.settings["srcstage"]

    async def checked_input(self, method: str, path_args: tuple) -> dict:
        """Query parameters and JSON body, checked against the route's OpenAPI operation; InvalidInput if not."""
        op = validation.operation(self.api_path, method)
        validation.check_path(op, dict(zip(re.findall(r"\{(\w+)\}", self.api_path), path_args, strict=False)))
        query = validation.check_query(op, self.request.query_arguments)
        raw = self.request.body or b""

        def check() -> dict:
            return validation.check_body(op, validation.parse_body(raw))

        # A body of 100,000 DIDs takes most of a second to check: keep the event loop free meanwhile.
        body = await asyncio.to_thread(check) if len(raw) > LARGE_BODY_BYTES else check()
        return {**body, **query}

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        if status == 204:
            self.finish()
        else:
            self.finish(json.dumps(data))

    def reply_listing(self, data: Any) -> None:
        """Answer a listing with an ETag of its content; 304 when the caller already has it.

        The listings are the server's own state (no SRCNet call), so the content hash is
        the change counter: any change from any surface (sidebar, widget, a kernel, another
        tab) changes it, and the sidebar's conditional poll costs one hash while nothing did.
        """
        body = json.dumps(data)
        etag = '"' + hashlib.sha1(body.encode(), usedforsecurity=False).hexdigest() + '"'
        self.set_header("ETag", etag)
        self.set_header("Cache-Control", "no-cache")
        wanted = {tag.strip().removeprefix("W/") for tag in self.request.headers.get("If-None-Match", "").split(",")}
        if etag in wanted:
            self.set_status(304)
            self.finish()
        else:
            self.finish(body)

    def compute_etag(self) -> str | None:
        return None  # reply_listing sets the ETags we promise; tornado's implicit ones would hash errors too

    def fail(self, err: ExtensionError) -> None:
        if err.status >= 500:
            self.log.warning(
                "srcstage: %s %s -> %s: %s", self.request.method, self.request.path, err.status, err.message
            )
        self.set_status(err.status)
        self.finish(json.dumps(err.to_json()))


class ConfigHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        await self.service.actions.learn()  # once: whether the DM serves extend and release
        await self.service.learn_read_files()  # once, in download mode: whether it serves download
        self.reply(self.service.public_config())


class SessionHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.broker.current_session())

    @tornado.web.authenticated
    @answers_errors
    async def delete(self) -> None:
        self.service.broker.sign_out()
        self.reply(self.service.broker.session())


class DeviceSignInHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self) -> None:
        await self.service.broker.start_device_flow()
        self.reply(self.service.broker.session(), 202)


class DestinationHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.destination_json(bool(self.input.get("refresh"))))


class NamespacesHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.namespaces())


class DidSearchHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        args = self.input
        self.reply(await self.service.search(args["namespace"], args["name"], args["type"], args["limit"]))


class LocationsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.locations(self.input["did"]))


class ScienceMetadataHandler(SrcStageHandler):
    """A DID's science metadata, fetched when the user opens its details."""

    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.science_metadata(self.input["did"]))


class DidPathsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.did_paths(self.input["did"]))


class DownloadsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(self.service.downloads_json(self.input.get("did")))


class CollectionsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply_listing({"collections": [c.to_json() for c in self.service.collections.all()]})

    @tornado.web.authenticated
    @answers_errors
    async def post(self) -> None:
        body = self.input
        collection = await self.service.collections.create(body["name"], body.get("dids", []))
        self.reply(collection.to_json(), 201)


class CollectionImportHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self) -> None:
        collection = await self.service.collections.import_document(self.input)
        self.reply(collection.to_json(), 201)


class CollectionHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, collection_id: str) -> None:
        self.reply(self.service.collections.get(collection_id).to_json())

    @tornado.web.authenticated
    @answers_errors
    async def patch(self, collection_id: str) -> None:
        body = self.input
        collection = await self.service.collections.update(
            collection_id, name=body.get("name"), add=body.get("add", []), remove=body.get("remove", [])
        )
        self.reply(collection.to_json())

    @tornado.web.authenticated
    @answers_errors
    async def delete(self, collection_id: str) -> None:
        await self.service.collections.delete(collection_id)
        self.reply(None, 204)


class CollectionExportHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, collection_id: str) -> None:
        self.reply(self.service.collections.get(collection_id).export())


class SubmitHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, collection_id: str) -> None:
        body = self.input
        self.reply(await self.service.submit(collection_id, body.get("namespace"), body.get("name")))


class PrecheckHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, collection_id: str) -> None:
        self.reply(await self.service.precheck(collection_id, self.input.get("lifetime")))


class StageHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, collection_id: str) -> None:
        body = self.input
        if body.get("dry_run") is True:  # one verb: the summary is the stage that changes nothing
            self.reply(await self.service.precheck(collection_id, body.get("lifetime")))
            return
        job = await self.service.stage(collection_id, body.get("lifetime"), body.get("namespace"))
        self.reply(job.to_json(), 202)


class JobsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.service.jobs.watch()  # someone looks: the trackers keep their promise on lag
        downloading = self.service.running_downloads()
        jobs = [{**j.to_json(), "downloading": j.did in downloading} for j in self.service.jobs.all()]
        self.reply_listing({"jobs": jobs, "notice": self.service.retrying_notice()})


class JobHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, job_id: str) -> None:
        job = self.service.jobs.get(job_id)
        self.service.jobs.watch(job_id)
        self.reply(job.to_json())

    @tornado.web.authenticated
    @answers_errors
    async def delete(self, job_id: str) -> None:
        await self.service.jobs.forget(job_id)
        self.reply(None, 204)


class JobExtendHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, job_id: str) -> None:
        self.reply((await self.service.actions.extend(job_id, self.input.get("lifetime"))).to_json())


class JobReleaseHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, job_id: str) -> None:
        self.reply((await self.service.actions.release(job_id)).to_json())


class JobRetryHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, job_id: str) -> None:
        self.reply((await self.service.actions.retry(job_id)).to_json(), 202)


class JobPathsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, job_id: str) -> None:
        self.reply(await self.service.job_paths(job_id))


class JobFilesHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, job_id: str) -> None:
        self.reply(await self.service.job_files(job_id, **self.input))


ID = r"([A-Za-z0-9_\-]+)"

# Every REST route of the extension, as its OpenAPI path (the `{...}` parts are ids).
ROUTES: list[tuple[str, type[SrcStageHandler]]] = [
    ("/config", ConfigHandler),
    ("/session", SessionHandler),
    ("/session/device", DeviceSignInHandler),
    ("/destination", DestinationHandler),
    ("/namespaces", NamespacesHandler),
    ("/dids", DidSearchHandler),
    ("/locations", LocationsHandler),
    ("/metadata", ScienceMetadataHandler),
    ("/paths", DidPathsHandler),
    ("/downloads", DownloadsHandler),
    ("/collections", CollectionsHandler),
    ("/collections/import", CollectionImportHandler),
    ("/collections/{collection_id}", CollectionHandler),
    ("/collections/{collection_id}/export", CollectionExportHandler),
    ("/collections/{collection_id}/submit", SubmitHandler),
    ("/collections/{collection_id}/precheck", PrecheckHandler),
    ("/collections/{collection_id}/stage", StageHandler),
    ("/jobs", JobsHandler),
    ("/jobs/{job_id}", JobHandler),
    ("/jobs/{job_id}/paths", JobPathsHandler),
    ("/jobs/{job_id}/files", JobFilesHandler),
    ("/jobs/{job_id}/extend", JobExtendHandler),
    ("/jobs/{job_id}/release", JobReleaseHandler),
    ("/jobs/{job_id}/retry", JobRetryHandler),
]


def route_table() -> list[tuple[str, type[SrcStageHandler]]]:
    """Every REST route of the extension as tornado patterns (the server app prefixes its base URL)."""
    table = []
    for api_path, handler in ROUTES:
        handler.api_path = api_path
        for method in ("get", "post", "patch", "put", "delete"):
            if getattr(handler, method).__qualname__.startswith(f"{handler.__name__}."):
                validation.operation(api_path, method)  # a route openapi.yaml does not describe fails at start
        table.append((f"/{NAMESPACE}" + re.sub(r"\{\w+\}", lambda _m: ID, api_path), handler))
    return table
