"""A tiny threaded HTTP server base for the fake arXiv / OpenAI services used in tests."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "Delay",
    "Fault",
    "Headers",
    "Malformed",
    "Recorded",
    "Response",
    "StandIn",
    "Status",
]


# --- faults -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """Base class of everything that can sit in a stand-in's fault queue."""


@dataclass(frozen=True)
class Status(Fault):
    """Answer this HTTP status instead of the normal reply (body defaults to a service-style error)."""

    code: int
    headers: dict[str, str] | None = None
    body: str | None = None


@dataclass(frozen=True)
class Delay(Fault):
    """Sleep before answering normally; long enough values trip client timeouts."""

    seconds: float


@dataclass(frozen=True)
class Malformed(Fault):
    """Answer 200 with a broken body (what "broken" means is up to the service)."""


# --- request log --------------------------------------------------------------------------------------


class Headers(dict[str, str]):
    """A dict of request headers whose lookups ignore case (keys are stored lower-cased)."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__((k.lower(), v) for k, v in dict(items).items())

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass
class Recorded:
    """One request as the stand-in saw it, plus what it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes
    json: Any
    time: float  # time.time() at arrival
    paper_ids: list[str] = field(default_factory=list)  # filled by services that understand the body
    fault: Fault | None = None  # the fault this request consumed, if any
    status: int = 0  # status code actually answered (0 = connection dropped before answering)


@dataclass
class Response:
    status: int = 200
    body: bytes | str = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[Recorded, Fault | None], Response]


# --- server plumbing ----------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections park their thread in readline(); joining them would hang stop().
    block_on_close = False
    # socketserver's default backlog of 5 drops the SYNs of a burst of concurrent clients, which then
    # retry a second later: that looked like a slow or non-concurrent client.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out (Delay faults) hang up on us; that is expected, not worth a traceback.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn  # set on the per-server subclass
    protocol_version = "HTTP/1.1"  # keep-alive, like the real services; needs exact Content-Length
    # Headers and body go out in two writes; with Nagle on, each answer waited ~40 ms for the client's
    # delayed ACK (a 60-paper Discord digest took 3 s instead of 0.1 s).
    disable_nagle_algorithm = True
    timeout = 60  # let idle keep-alive threads die eventually

    def setup(self) -> None:
        super().setup()
        self.standin._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.standin._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def _serve(self) -> None:
        self.standin._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class Served:
    """A stand-in server's life: ``start()`` it or use it as a context manager; it raises not_running()
    when asked where it listens before it started."""

    def start(self) -> Any:  # Any so subclasses keep their own type in `with X() as x:`
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def not_running(self) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__} is not running; call start() or use it as a context manager")


class StandIn(Served):
    """Base of the fake services: a ThreadingHTTPServer on 127.0.0.1:<random> in a daemon thread.

    Subclasses implement `route()`; the base does logging, latency and the fault queue.
    """

    def __init__(self) -> None:
        self.latency: float = 0.0  # seconds added to every request (slept in the request's own thread)
        self.errors: list[BaseException] = []  # exceptions raised by route handlers (answered as 500)
        self._lock = threading.Lock()
        self._log: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    # lifecycle

    def start(self) -> StandIn:
        if self._server is not None:
            return self
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"standin": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"{type(self).__name__}-server",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        # Cut keep-alive connections too, otherwise a pooled client connection would still be answered.
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise self.not_running()
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    # log and faults

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._log)

    @property
    def faults(self) -> list[Fault]:
        """A snapshot of the faults still queued (FIFO)."""
        with self._lock:
            return list(self._faults)

    def add_fault(self, *faults: Fault) -> None:
        """Queue faults; each request on a served path consumes at most one, first in first out."""
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        """Forget the request log, queued faults and recorded errors."""
        with self._lock:
            self._log.clear()
            self._faults.clear()
            self.errors.clear()

    def requests_to(self, path_suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    # subclass hooks

    def route(self, rec: Recorded) -> Route | None:
        """Return the function answering this request, or None for 404 (404s consume no fault)."""
        return None

    def error_response(self, rec: Recorded, fault: Status) -> Response:
        """Build the answer for a Status fault; services override to mimic their real error bodies."""
        body = fault.body if fault.body is not None else f"{fault.code} stand-in error\n"
        return Response(fault.code, body, headers=dict(fault.headers or {}))

    # internals

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _pop_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _handle(self, h: _Handler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = None
        rec = Recorded(
            method=h.command,
            path=unquote(parts.path),
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=Headers(h.headers.items()),
            body=body,
            json=parsed,
            time=time.time(),
        )
        with self._lock:
            self._log.append(rec)

        handler = self.route(rec)
        if handler is None:
            self._send(h, rec, Response(404, f"no stand-in route for {h.command} {rec.path}\n"))
            return
        # Pop at arrival, before any sleeping, so concurrent requests consume faults in arrival order.
        fault = self._pop_fault()
        rec.fault = fault
        if self.latency > 0:
            time.sleep(self.latency)
        if isinstance(fault, Delay):
            time.sleep(fault.seconds)
            fault = None
        try:
            resp = self.error_response(rec, fault) if isinstance(fault, Status) else handler(rec, fault)
        except Exception as exc:  # a bug in the stand-in must surface in the test, not hang the client
            with self._lock:
                self.errors.append(exc)
            resp = Response(500, "stand-in crashed:\n" + traceback.format_exc())
        self._send(h, rec, resp)

    def _send(self, h: _Handler, rec: Recorded, resp: Response) -> None:
        data = resp.body.encode("utf-8") if isinstance(resp.body, str) else resp.body
        # Record the status before writing: the client may read the log the moment it has the reply.
        rec.status = resp.status
        try:
            self._write(h, resp, data)
        except OSError:
            rec.status = 0  # the client hung up first
            raise

    @staticmethod
    def _write(h: _Handler, resp: Response, data: bytes) -> None:
        h.send_response(resp.status)
        headers = {"Content-Type": resp.content_type, **resp.headers}
        for name, value in headers.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)
        h.wfile.flush()
