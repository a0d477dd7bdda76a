"""One connection to a Jupyter server's srcstage extension, and how a verb is written once.

A verb of the kernel API is one generator (an *operation*): it yields a :class:`Request` (or a
:class:`Sleep`) and is sent back the decoded answer (or has the error thrown in). The connection
drives it with blocking I/O (``Connection._run``) or in the running event loop
(``Connection._arun``); :class:`verb` makes both faces from the one generator, so the logic of
each verb exists once and the two faces cannot drift apart.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import time
import weakref
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import httpx

from .. import messages
from .errors import InvalidInputError, ServerNotFoundError, ServiceUnavailableError, SrcStageError, error_from_response

DEFAULT_TIMEOUT = 60.0
LONG_TIMEOUT = 300.0  # submit and stage: SRCNet may take minutes to attach many DIDs
DOWNLOAD_TIMEOUT = 3600.0  # paths in download mode: the files arrive before the answer (a bar shows them)


@dataclass
class Request:
    """One call of the extension's REST API, relative to ``<base_url>srcstage/``."""

    method: str
    path: str
    params: dict | None = None
    body: Any = None
    timeout: float | None = None


@dataclass
class Sleep:
    seconds: float


@dataclass
class Watched:
    """A request that may take long, and a cheap one sent every ``every`` seconds meanwhile: each of
    its answers goes to ``seen`` (its failures are ignored: it only feeds a progress display)."""

    request: Request
    poll: Request
    seen: Callable[[Any], None]
    every: float = 1.0


Op = Generator[Any, Any, Any]


class Connection:
    """The HTTP side of a :class:`~.resources.Client`: base URL, Jupyter token, and the two drivers."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        verify: Any = True,
        uds: str | None = None,
        found_by: str = "connect()",
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise InvalidInputError(messages.NOT_A_SERVER_URL.format(url=url))
        self.url = url if url.endswith("/") else url + "/"
        self.token = token or None
        self.timeout = timeout
        self.found_by = found_by
        self._verify = verify
        self._uds = uds
        self._transport = transport  # tests: an httpx.MockTransport
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._ahttp: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _options(self, transport: Any) -> dict:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        return {
            "headers": headers,
            "timeout": self.timeout,
            "verify": self._verify,
            "transport": self._transport or transport,
            "trust_env": False,
        }

    def _sync_http(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(**self._options(httpx.HTTPTransport(uds=self._uds) if self._uds else None))
            return self._http

    def _async_http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._ahttp.get(loop)
        if client is None:
            transport = httpx.AsyncHTTPTransport(uds=self._uds) if self._uds else None
            client = self._ahttp[loop] = httpx.AsyncClient(**self._options(transport))
        return client

    def close(self) -> None:
        """Close the blocking HTTP connection (async ones close with their event loop)."""
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    # --- one request: built, sent and decoded the same way for both faces ----------------

    def _arguments(self, req: Request) -> dict:
        kwargs: dict[str, Any] = {"method": req.method, "url": f"{self.url}srcstage/{req.path}"}
        if req.params:
            kwargs["params"] = {k: v for k, v in req.params.items() if v is not None}
        if req.body is not None:
            kwargs["json"] = req.body
        if req.timeout is not None:
            kwargs["timeout"] = req.timeout
        return kwargs

    def _transport_error(self, err: Exception) -> SrcStageError:
        if isinstance(err, httpx.TimeoutException):
            return ServiceUnavailableError(
                messages.SERVER_TIMED_OUT.format(url=self.url, kind=type(err).__name__), code="unavailable"
            )
        return ServerNotFoundError(messages.SERVER_UNREACHABLE.format(url=self.url, found_by=self.found_by, err=err))

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if not response.is_success:
            raise error_from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServerNotFoundError(
                messages.SERVER_ANSWER_NOT_JSON.format(response=response),
                status=response.status_code,
            ) from None

    # --- the two drivers of an operation ----------------------------------------------------

    @staticmethod
    def _step(gen: Op, value: Any, error: BaseException | None) -> tuple[bool, Any]:
        """Advance ``gen`` once: ``(True, result)`` when it returned, else ``(False, next op)``."""
        try:
            return False, (gen.throw(error) if error is not None else gen.send(value))
        except StopIteration as stop:
            return True, stop.value

    def _run(self, gen: Op) -> Any:
        """Drive an operation with blocking I/O (never starts or nests an event loop)."""
        value, error = None, None
        while True:
            finished, op = self._step(gen, value, error)
            if finished:
                return op
            value, error = None, None
            try:
                if isinstance(op, Sleep):
                    time.sleep(op.seconds)
                elif isinstance(op, Watched):
                    value = self._decode(self._watch(op))
                else:
                    try:
                        response = self._sync_http().request(**self._arguments(op))
                    except httpx.HTTPError as err:
                        raise self._transport_error(err) from None
                    value = self._decode(response)
            except SrcStageError as err:
                error = err
            except BaseException:  # KeyboardInterrupt...: let the operation clean up (progress bars)
                gen.close()
                raise

    def _watch(self, op: Watched) -> httpx.Response:
        """The blocking face of :class:`Watched`: the long request in a worker thread, polls here."""
        pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="srcstage-watched")
        try:
            future = pool.submit(self._sync_http().request, **self._arguments(op.request))
            while True:
                try:
                    return future.result(timeout=op.every)
                except concurrent.futures.TimeoutError:
                    pass
                except httpx.HTTPError as err:
                    raise self._transport_error(err) from None
                try:
                    op.seen(self._decode(self._sync_http().request(**self._arguments(op.poll))))
                except (httpx.HTTPError, SrcStageError):
                    pass
        finally:
            pool.shutdown(wait=False)  # interrupted: the server finishes the request on its own

    async def _awatch(self, op: Watched) -> httpx.Response:
        http = self._async_http()
        task = asyncio.ensure_future(http.request(**self._arguments(op.request)))
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=op.every)
                if done:
                    try:
                        return task.result()
                    except httpx.HTTPError as err:
                        raise self._transport_error(err) from None
                try:
                    op.seen(self._decode(await http.request(**self._arguments(op.poll))))
                except (httpx.HTTPError, SrcStageError):
                    pass
        finally:
            task.cancel()

    async def _arun(self, gen: Op) -> Any:
        """Drive an operation inside the running event loop."""
        value, error = None, None
        while True:
            finished, op = self._step(gen, value, error)
            if finished:
                return op
            value, error = None, None
            try:
                if isinstance(op, Sleep):
                    await asyncio.sleep(op.seconds)
                elif isinstance(op, Watched):
                    value = self._decode(await self._awatch(op))
                else:
                    try:
                        response = await self._async_http().request(**self._arguments(op))
                    except httpx.HTTPError as err:
                        raise self._transport_error(err) from None
                    value = self._decode(response)
            except SrcStageError as err:
                error = err
            except BaseException:  # cancelled...: let the operation clean up (progress bars)
                gen.close()
                raise


class verb:
    """Write a verb once, as a generator method; the class gets both of its faces.

    ``@verb`` on ``def stage(self, lifetime=None) -> Job`` (a generator yielding :class:`Request`)
    gives the class ``stage`` (blocking), ``astage`` (async; or ``async_name``) and ``_op_stage``
    (the generator itself, for other verbs to ``yield from``). The annotations and the docstring are
    those of the blocking face, as ``help()`` shows them.
    """

    def __init__(self, op: Callable[..., Op] | None = None, *, async_name: str | None = None):
        self.op = op
        self.async_name = async_name

    def __call__(self, op: Callable[..., Op]) -> verb:
        return verb(op, async_name=self.async_name)

    def __set_name__(self, owner: type, name: str) -> None:
        op = self.op
        assert op is not None
        async_name = self.async_name or f"a{name}"

        @functools.wraps(op)
        def blocking(obj: Any, *args: Any, **kwargs: Any) -> Any:
            return connection_of(obj)._run(op(obj, *args, **kwargs))

        @functools.wraps(op)
        async def awaitable(obj: Any, *args: Any, **kwargs: Any) -> Any:
            return await connection_of(obj)._arun(op(obj, *args, **kwargs))

        awaitable.__name__ = async_name
        awaitable.__qualname__ = f"{owner.__qualname__}.{async_name}"
        awaitable.__doc__ = f"Async :meth:`{name}`."
        setattr(owner, name, blocking)
        setattr(owner, async_name, awaitable)
        setattr(owner, f"_op_{name}", op)


def connection_of(obj: Any) -> Connection:
    return obj if isinstance(obj, Connection) else obj._client
