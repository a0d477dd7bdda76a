"""REST handlers under /srcstage/: parse, call the staging service, answer JSON.

The route table at the bottom is the one list of routes (srcstage_jlab/openapi.yaml
describes them). Every handler method is `@tornado.web.authenticated`; a test
fails if one is not. Errors go through `SrcStageHandler.fail`, the one mapping
from an exception to an answer: a JSON body with our message and the SRCNet
detail, never a traceback and never a token.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from .errors import InvalidInput, SrcStageError
from .service import StagingService

NAMESPACE = "srcstage"


def answers_errors(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Turn any failure inside a handler method into the JSON error answer."""

    @functools.wraps(method)
    async def wrapper(self: SrcStageHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except SrcStageError as err:
            self.fail(err)
        except Exception:
            self.log.exception("srcstage: unexpected error in %s %s", self.request.method, self.request.path)
            self.fail(
                SrcStageError("Something went wrong in the SRCNet staging extension; the server log has the details.")
            )

    return wrapper


class SrcStageHandler(APIHandler):
    @property
    def service(self) -> StagingService:
        return self.settings["srcstage"]

    def body(self) -> dict:
        if not self.request.body:
            return {}
        try:
            data = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object.")
        return data

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        if status == 204:
            self.finish()
        else:
            self.finish(json.dumps(data))

    def fail(self, err: SrcStageError) -> None:
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
        refresh = self.get_query_argument("refresh", "false").lower() in ("1", "true", "yes")
        self.reply(await self.service.destination_json(refresh))


class NamespacesHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.namespaces())


class DidSearchHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        try:
            limit = int(self.get_query_argument("limit", "10000"))
        except ValueError:
            raise InvalidInput("The limit must be a whole number.") from None
        self.reply(
            await self.service.search(
                self.get_query_argument("namespace", ""),
                self.get_query_argument("name", "*"),
                self.get_query_argument("type", "all"),
                limit,
            )
        )


class LocationsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.locations(self.get_query_argument("did", "")))


class ScienceMetadataHandler(SrcStageHandler):
    """A DID's science metadata, fetched when the user opens its details."""

    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.science_metadata(self.get_query_argument("did", "")))


class DidPathsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply(await self.service.did_paths(self.get_query_argument("did", "")))


class CollectionsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply({"collections": [c.to_json() for c in self.service.collections.all()]})

    @tornado.web.authenticated
    @answers_errors
    async def post(self) -> None:
        body = self.body()
        collection = await self.service.collections.create(body.get("name"), body.get("dids") or [])
        self.reply(collection.to_json(), 201)


class CollectionImportHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self) -> None:
        collection = await self.service.collections.import_document(self.body())
        self.reply(collection.to_json(), 201)


class CollectionHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, collection_id: str) -> None:
        self.reply(self.service.collections.get(collection_id).to_json())

    @tornado.web.authenticated
    @answers_errors
    async def patch(self, collection_id: str) -> None:
        body = self.body()
        collection = await self.service.collections.update(
            collection_id, name=body.get("name"), add=body.get("add") or [], remove=body.get("remove") or []
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
        body = self.body()
        self.reply(await self.service.submit(collection_id, body.get("namespace"), body.get("name")))


class PrecheckHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, collection_id: str) -> None:
        self.reply(await self.service.precheck(collection_id, self.body().get("lifetime")))


class StageHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def post(self, collection_id: str) -> None:
        body = self.body()
        if body.get("dry_run") is True:  # one verb: the summary is the stage that changes nothing
            self.reply(await self.service.precheck(collection_id, body.get("lifetime")))
            return
        job = await self.service.stage(collection_id, body.get("lifetime"), body.get("namespace"))
        self.reply(job.to_json(), 202)


class JobsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self) -> None:
        self.reply({"jobs": [j.to_json() for j in self.service.jobs.all()]})


class JobHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, job_id: str) -> None:
        self.reply(self.service.jobs.get(job_id).to_json())

    @tornado.web.authenticated
    @answers_errors
    async def delete(self, job_id: str) -> None:
        await self.service.jobs.forget(job_id)
        self.reply(None, 204)


class JobPathsHandler(SrcStageHandler):
    @tornado.web.authenticated
    @answers_errors
    async def get(self, job_id: str) -> None:
        self.reply(await self.service.job_paths(job_id))


ID = r"([A-Za-z0-9_\-]+)"


def route_table() -> list[tuple[str, type[SrcStageHandler]]]:
    """Every REST route of the extension (the server app prefixes its base URL)."""
    routes = [
        ("config", ConfigHandler),
        ("session", SessionHandler),
        ("session/device", DeviceSignInHandler),
        ("destination", DestinationHandler),
        ("namespaces", NamespacesHandler),
        ("dids", DidSearchHandler),
        ("locations", LocationsHandler),
        ("metadata", ScienceMetadataHandler),
        ("paths", DidPathsHandler),
        ("collections", CollectionsHandler),
        ("collections/import", CollectionImportHandler),
        (f"collections/{ID}", CollectionHandler),
        (f"collections/{ID}/export", CollectionExportHandler),
        (f"collections/{ID}/submit", SubmitHandler),
        (f"collections/{ID}/precheck", PrecheckHandler),
        (f"collections/{ID}/stage", StageHandler),
        ("jobs", JobsHandler),
        (f"jobs/{ID}", JobHandler),
        (f"jobs/{ID}/paths", JobPathsHandler),
    ]
    return [(f"/{NAMESPACE}/{path}", handler) for path, handler in routes]
