"""The endpoint's connection layer: one event loop reads whole requests, a bounded pool answers.

With a thread per connection (http.server's way) slow clients hold threads without limit, and a
socket timeout is per read, so a client trickling a byte a minute holds its thread for ever. Here
one asyncio thread holds every connection and reads each request -- header block and body --
under one total deadline; only a complete request reaches one of `workers` threads, which answer
it within what is left of that deadline. Memory stays bounded too: connections are capped, a
header block is at most 64 KiB, and every body held (being read, queued or answered) is charged
to a byte budget; a request that finds it full is refused (503) unread.

What a request means is not decided here: `Responder` (serve.py's HTTP handler) gets the raw
request bytes and returns the raw response.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fairmot.sagemaker.budget import BudgetExceededError, ByteBudget
from fairmot.sagemaker.protocol import MAX_BODY_BYTES

MAX_HEADER_BYTES = 64 * 1024  # request line and headers; http.server allows 64 KiB per line
# A body in flight costs about four times its size: the bytes read, the copy the HTTP layer
# reads, the JSON strings parsed from it and the base64-decoded frames.
BODY_MEMORY_FACTOR = 4
HEADER_END = b"\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# The HTTP layer: raw request bytes, the peer, the request's deadline (time.monotonic) ->
# raw response bytes and whether to close the connection after it.
Responder = Callable[[bytes, tuple[str, int], float], tuple[bytes, bool]]
# A JSON error response that closes the connection: (status, message) -> raw response bytes.
ErrorRenderer = Callable[[int, str], bytes]


@dataclass(frozen=True)
class Limits:
    """Bounds on threads, time and memory (serve.py reads them from the environment)."""

    workers: int = 8  # threads answering requests
    max_connections: int = 512
    request_deadline_s: float = 60.0  # from a request's first byte to its answer
    idle_timeout_s: float = 75.0  # a keep-alive connection silent this long is closed
    max_body_bytes: int = MAX_BODY_BYTES
    max_drained_bytes: int = 64 * 1024 * 1024  # an oversized body up to this is read and dropped
    body_budget_bytes: int = 256 * 1024 * 1024


class _Refused(Exception):
    """Answer with this status and message, then close the connection."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FrontEnd:
    """Serve HTTP/1.1 on (host, port) in a background thread until `stop()`."""

    def __init__(
        self,
        address: tuple[str, int],
        respond: Responder,
        render_error: ErrorRenderer,
        limits: Limits,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.address = address
        self.limits = limits
        self.body_budget = ByteBudget(limits.body_budget_bytes, "request body")
        self.open_connections = 0
        self._respond = respond
        self._render_error = render_error
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._pool = ThreadPoolExecutor(limits.workers, thread_name_prefix="request")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)

    def start(self) -> None:
        """Bind and listen; raises the bind error (port in use) here, in the caller's thread."""
        self._thread.start()
        self._ready.wait()
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start(); the thread ends
            self._failure = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        host, port = self.address
        server = await asyncio.start_server(
            self._connection, host, port, limit=MAX_HEADER_BYTES, backlog=128
        )
        self.address = server.sockets[0].getsockname()[:2]
        self._ready.set()
        await self._stopping.wait()
        # Not `async with server`: since Python 3.12 its exit waits for every open connection,
        # idle keep-alive ones included; asyncio.run cancels their tasks instead.
        server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        try:
            if self.open_connections >= self.limits.max_connections:
                raise _Refused(503, "too many open connections; retry later")
            self.open_connections += 1
            try:
                await self._serve(reader, writer, peer)
            finally:
                self.open_connections -= 1
        except _Refused as refused:
            with contextlib.suppress(ConnectionError, TimeoutError):
                writer.write(self._render_error(refused.status, refused.message))
                async with asyncio.timeout(self.limits.idle_timeout_s):
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as error:
            # A client going away is routine (a closed tab, a killed load test): one line.
            self._log(f"serve: connection from {peer[0]}:{peer[1]} dropped: {type(error).__name__}")
        except TimeoutError:
            self._log(f"serve: connection from {peer[0]}:{peer[1]} stopped reading: closed")
        except Exception as error:  # a bug: this connection ends, the server lives; one line
            self._log(f"serve: connection from {peer[0]}:{peer[1]} failed: {error!r}")
        except asyncio.CancelledError:
            # The server is stopping. Ending normally: asyncio 3.11 prints a traceback for every
            # connection task that ends cancelled.
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                async with asyncio.timeout(1):
                    await writer.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: tuple[str, int]
    ) -> None:
        """Requests of one keep-alive connection, one at a time."""
        limits = self.limits
        while True:
            try:
                async with asyncio.timeout(limits.idle_timeout_s):
                    first = await reader.read(1)
            except TimeoutError:
                return  # an idle keep-alive connection: close it quietly
            if not first:
                return  # the client closed between requests
            deadline = time.monotonic() + limits.request_deadline_s
            try:
                async with asyncio.timeout(limits.request_deadline_s):
                    head, length, expects_continue = await self._read_head(first, reader)
                    body, held = await self._read_body(reader, writer, length, expects_continue)
            except TimeoutError:
                self._log(
                    f"serve: request from {peer[0]}:{peer[1]} not received within "
                    f"{limits.request_deadline_s:g} s: closed"
                )
                raise _Refused(
                    408, f"the request did not arrive within {limits.request_deadline_s:g} s"
                ) from None
            try:
                response, close = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self._respond, head + body, peer, deadline
                )
                del body
                writer.write(response)
                async with asyncio.timeout(limits.idle_timeout_s):
                    await writer.drain()
            finally:
                self.body_budget.release(held)
            if close:
                return

    async def _read_head(
        self, first: bytes, reader: asyncio.StreamReader
    ) -> tuple[bytes, int, bool]:
        """The request line and headers, the body length they declare (413s answered here) and
        whether the client waits for 100 Continue before sending the body."""
        try:
            head = first + await reader.readuntil(HEADER_END)
        except asyncio.LimitOverrunError:
            raise _Refused(
                431, f"request line and headers exceed {MAX_HEADER_BYTES} bytes"
            ) from None
        _, _, header_block = head.partition(b"\r\n")
        try:
            headers = http.client.parse_headers(io.BytesIO(header_block))
        except http.client.HTTPException as error:
            raise _Refused(431, f"malformed or too many headers: {type(error).__name__}") from None
        if headers.get("Transfer-Encoding") is not None:
            raise _Refused(411, "chunked bodies are not supported: send a Content-Length")
        lengths = set(headers.get_all("Content-Length") or [])
        if len(lengths) > 1:
            raise _Refused(400, "conflicting Content-Length headers")
        length_text = lengths.pop() if lengths else "0"
        if not (length_text.isascii() and length_text.isdigit()):
            # Body framing is unknown: the HTTP layer answers (411) and the connection closes.
            return head, 0, False
        length = int(length_text)
        if length > self.limits.max_body_bytes:
            await self._drain_oversized(reader, length)
        return head, length, (headers.get("Expect") or "").lower() == "100-continue"

    async def _drain_oversized(self, reader: asyncio.StreamReader, length: int) -> None:
        message = (
            f"body of {length} bytes exceeds SageMaker's 6 MB payload limit; "
            "send fewer frames per request or smaller images"
        )
        if length > self.limits.max_drained_bytes:  # not worth reading: answer and close
            raise _Refused(413, message)
        # Read and drop a moderately large body first: closing a socket with unread data sends a
        # reset, and the client would lose the answer.
        remaining = length
        while remaining > 0:
            chunk = await reader.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)
        raise _Refused(413, message)

    async def _read_body(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        length: int,
        expects_continue: bool,
    ) -> tuple[bytes, int]:
        """The body, and the bytes reserved for it in the body budget (released by the caller)."""
        held = length * BODY_MEMORY_FACTOR
        try:
            granted = self.body_budget.try_acquire(held)
        except BudgetExceededError as error:
            raise _Refused(413, f"the request body {error}") from None
        if not granted:
            raise _Refused(503, "the endpoint is holding too many request bodies; retry later")
        if length and expects_continue:  # only now: a refused body is never invited
            writer.write(CONTINUE)
        try:
            return await reader.readexactly(length), held
        except BaseException:
            self.body_budget.release(held)
            raise
