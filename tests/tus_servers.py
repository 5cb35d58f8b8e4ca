"""tus servers written by others, on loopback, started and stopped by the tests.

- @tus/server 2.4.5 + @tus/file-store 2.1.1 (Node, installed by ``.ci/setup`` into ``node_modules/``), run by
  ``tests/tus_servers/tus_server.mjs``: creation, termination, expiration; no checksum; absolute Locations.
- resumable-upload 0.3.0 (PyPI, the ``test`` extra), its ``serve`` command: every extension, checksums
  sha1/sha256/md5 verified (460 on a mismatch), relative Locations.

Both store an upload's bytes as ``<data dir>/<id>``: tests read them there (a GET of a finished upload can
crash @tus/server on Node 20). Transports here count and alter what chunkup sends, without patching.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from local_stores import ROOT, StoreUnavailable, free_port, node_server

NODE_SCRIPT = Path(__file__).with_name("tus_servers") / "tus_server.mjs"


@dataclass
class TusServer:
    """A running tus server: its creation URL and where it keeps the bytes."""

    name: str
    url: str
    data: Path
    checksums: tuple[str, ...] = ()

    def stored(self, upload_url: str) -> bytes:
        return (self.data / upload_url.rstrip("/").rsplit("/", 1)[-1]).read_bytes()

    def head(self, upload_url: str) -> httpx.Response:
        return httpx.head(httpx.URL(self.url).join(upload_url), headers={"Tus-Resumable": "1.0.0"})

    def metadata(self, upload_url: str) -> dict[str, str]:
        """The upload's metadata as the server echoes it on HEAD, decoded."""
        pairs = {}
        for item in self.head(upload_url).headers.get("Upload-Metadata", "").split(","):
            key, _, value = item.strip().partition(" ")
            if key:
                pairs[key] = base64.b64decode(value.strip()).decode() if value.strip() else ""
        return pairs


@contextmanager
def tus_node_server(workdir: Path, expiration_ms: int | None = None) -> Iterator[TusServer]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@tus" / "server").is_dir():
        raise StoreUnavailable("@tus/server is not installed: run `bash .ci/setup` (npm installs it into "
                               "node_modules/), with Node >= 20 on the PATH.")
    port = free_port()
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    argv = [node, str(NODE_SCRIPT), str(port), str(data)] + ([str(expiration_ms)] if expiration_ms else [])
    with node_server(argv, port, workdir):
        yield TusServer("@tus/server", f"http://127.0.0.1:{port}/files/", data)


@contextmanager
def resumable_upload_server(workdir: Path, expiry_seconds: int | None = None) -> Iterator[TusServer]:
    executable = Path(sys.executable).with_name("resumable-upload")
    if not executable.exists():
        raise StoreUnavailable("resumable-upload is not installed: run `bash .ci/setup` (the test extra has it).")
    port = free_port()
    data = workdir / "uploads"
    argv = [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port), "--upload-dir", str(data),
            "--db-path", str(workdir / "uploads.db"), "--checksum-algorithms", "sha1,sha256,md5",
            "--log-level", "WARNING"] + (["--upload-expiry", str(expiry_seconds)] if expiry_seconds else [])
    with node_server(argv, port, workdir):
        yield TusServer("resumable-upload", f"http://127.0.0.1:{port}/files/", data, ("sha1", "sha256", "md5"))


@pytest.fixture(scope="session")
def tus_node(tmp_path_factory):
    with tus_node_server(tmp_path_factory.mktemp("tus-node")) as server:
        yield server


@pytest.fixture(scope="session")
def tus_resumable(tmp_path_factory):
    with resumable_upload_server(tmp_path_factory.mktemp("tus-resumable")) as server:
        yield server


@pytest.fixture(params=["@tus/server", "resumable-upload"])
def tus_server(request) -> TusServer:
    """Each of the two servers in turn."""
    return request.getfixturevalue("tus_node" if request.param == "@tus/server" else "tus_resumable")


@dataclass
class Sent:
    """One request as it left chunkup: method, headers, and how many body bytes went out."""

    method: str
    url: str
    headers: httpx.Headers
    body_bytes: int = 0
    status: int | None = None


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """A real transport that records every request, and may alter or cut PATCH bodies.

    ``corrupt``: PATCH numbers (0-based, counting PATCHes) whose first byte is flipped on the way.
    ``cut``: PATCH number -> bytes after which its body stops with :class:`Interrupted` (a killed worker).
    ``bodies``: the methods counted that way; with ``("PATCH", "POST")`` a POST carrying bytes (a partial
    upload created with its body) counts too.
    """

    corrupt: set[int] = field(default_factory=set)
    cut: dict[int, int] = field(default_factory=dict)
    cut_error: type[Exception] | None = None
    """What a cut body raises: :class:`Interrupted` by default; a network error (``httpx.WriteError``) is retried."""
    sent: list[Sent] = field(default_factory=list)
    patches: int = 0
    bodies: tuple[str, ...] = ("PATCH",)

    def __post_init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        record = Sent(request.method, str(request.url), request.headers)
        self.sent.append(record)
        if request.method in self.bodies and (request.method == "PATCH" or _has_body(request)):
            number = self.patches
            self.patches += 1
            request.stream = _Stream(request.stream, record, number in self.corrupt, self.cut.get(number),
                                     self.cut_error or Interrupted, self._hold)
        response = await self._inner.handle_async_request(request)
        record.status = response.status_code
        return response

    async def _hold(self) -> None:
        """Called after each body's first piece went out: nothing to wait for here (see :class:`Together`)."""

    async def aclose(self) -> None:
        await self._inner.aclose()

    def patch_bytes(self) -> int:
        return sum(s.body_bytes for s in self.sent if s.method == "PATCH")

    def body_bytes(self) -> int:
        """Bytes of every body counted (see ``bodies``)."""
        return sum(s.body_bytes for s in self.sent)

    def methods(self) -> list[str]:
        return [s.method for s in self.sent]


@dataclass
class Together(Recorder):
    """A :class:`Recorder` that holds every body after its first piece until ``count`` bodies are on the wire
    at once: proof that requests really overlap (a client sending one at a time never gets there, and the
    wait fails after ``timeout``). ``on_together`` runs once they are, while all are held (a look at the server).
    """

    count: int = 2
    timeout: float = 30.0
    on_together: Callable[[], None] | None = None
    bodies: tuple[str, ...] = ("PATCH", "POST")
    held: int = 0
    most_held: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        self._released = asyncio.Event()

    async def _hold(self) -> None:
        if self._released.is_set():
            return
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        try:
            if self.held >= self.count:
                if self.on_together is not None:
                    self.on_together()
                self._released.set()
            try:
                await asyncio.wait_for(self._released.wait(), self.timeout)
            except TimeoutError:
                raise AssertionError(f"{self.count} request bodies were never on the wire together "
                                     f"(at most {self.most_held})") from None
        finally:
            self.held -= 1


def _has_body(request: httpx.Request) -> bool:
    return request.headers.get("Content-Length", "0") not in ("", "0") or "Transfer-Encoding" in request.headers


class Interrupted(Exception):
    """Raised from a PATCH body to stop it midway, as a killed process would."""


class _Stream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, record: Sent, corrupt: bool, cut: int | None,
                 error: type[Exception], hold: Callable[[], Awaitable[None]]) -> None:
        self._inner, self._record, self._corrupt, self._cut, self._error = inner, record, corrupt, cut, error
        self._hold = hold

    async def __aiter__(self) -> AsyncIterator[bytes]:
        first = True
        async for piece in self._inner:
            piece = bytes(piece)
            if first and self._corrupt:
                piece = bytes([piece[0] ^ 0xFF]) + piece[1:]
            if self._cut is not None and self._record.body_bytes + len(piece) >= self._cut:
                piece = piece[: self._cut - self._record.body_bytes]
                self._record.body_bytes += len(piece)
                yield piece
                raise self._error(f"PATCH body cut after {self._cut} bytes")
            self._record.body_bytes += len(piece)
            yield piece
            if first:
                await self._hold()  # the first piece is out: the server sees the request begin
            first = False


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Poll ``condition`` (a server's state) until it holds; fail naming ``what`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
