"""Local object-store servers on loopback, for the source tests and benches: each started and stopped here.

- S3: moto's threaded server (in this process; keeps objects in memory and copies a whole object per
  ranged GET, fine for MiBs) and s3rver (a Node program on disk that streams ranges and checks access
  keys: for GiB objects and "access denied").
- Azure Blob: Azurite (Node), in memory.
- GCS: gcp-storage-emulator (in this process), in memory.
- HTTP(S): a threaded server that answers only single-range GETs (206) and counts them.

The Node programs are installed beforehand by ``.ci/setup`` into ``node_modules/`` at the repository
root (or pointed at by ``CHUNKUP_AZURITE`` / ``CHUNKUP_S3RVER``); nothing is installed here.
"""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AZURE_ACCOUNT = "devstoreaccount1"
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#: s3rver accepts this access key id (and its secret) and answers 403 to any other.
S3RVER_KEY = "S3RVER"


class StoreUnavailable(RuntimeError):
    """A local store server is missing or did not start; the message says how to fix it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_program(name: str, variable: str) -> str:
    path = os.environ.get(variable) or str(ROOT / "node_modules" / ".bin" / name)
    if not os.access(path, os.X_OK):
        raise StoreUnavailable(f"{name} not found at {path}: run `bash .ci/setup` (it installs it with npm into "
                               f"node_modules/), or set {variable} to its executable.")
    return path


@contextmanager
def node_server(argv: list[str], port: int, workdir: Path) -> Iterator[None]:
    """Run a Node server until the block ends, waiting until it listens on ``port``; then stop it."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / "server.log", "w+b")  # noqa: SIM115 - read back if it fails to start
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise StoreUnavailable(f"{argv[0]} exited with {process.returncode}: "
                                       f"{log.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise StoreUnavailable(f"{argv[0]} did not listen on 127.0.0.1:{port} within 30 s") from None
                time.sleep(0.1)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@contextmanager
def azurite(workdir: Path) -> Iterator[str]:
    """Azurite's blob service in memory; yields the account URL (``http://127.0.0.1:PORT/devstoreaccount1``)."""
    port = free_port()
    argv = [node_program("azurite-blob", "CHUNKUP_AZURITE"), "--silent", "--inMemoryPersistence",
            "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--blobHost", "127.0.0.1",
            "--blobPort", str(port)]
    with node_server(argv, port, workdir):
        yield f"http://127.0.0.1:{port}/{AZURE_ACCOUNT}"


@contextmanager
def s3rver(workdir: Path, buckets: tuple[str, ...] = ("media",)) -> Iterator[str]:
    """s3rver with its data under ``workdir`` and ``buckets`` created; yields the endpoint URL."""
    port = free_port()
    argv = [node_program("s3rver", "CHUNKUP_S3RVER"), "-d", str(workdir / "data"), "-a", "127.0.0.1",
            "-p", str(port), "--silent", "--no-vhost-buckets"]
    for bucket in buckets:
        argv += ["--configure-bucket", bucket]
    (workdir / "data").mkdir(parents=True, exist_ok=True)
    with node_server(argv, port, workdir):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's threaded S3 server in this process, as s3fs's own tests run it; yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@contextmanager
def gcs_emulator() -> Iterator[str]:
    """gcp-storage-emulator in this process (its API thread), in memory; yields the endpoint URL."""
    import urllib.request

    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=10) as response:  # up and answering
            if response.status != 200:
                raise StoreUnavailable(f"gcp-storage-emulator answered {response.status}")
        yield endpoint
    finally:
        server.stop()  # shuts the HTTP server down (its API thread's join() only does that, without waiting)
        threading.Thread.join(server._api, timeout=10)


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with single-range GETs (206) and counts them, as object-store HTTP endpoints do.

    A GET without ``Range`` is refused: a whole-object read would be a bug in the reader.
    """

    server: RangeServer

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _authorized(self) -> bool:
        token = self.server.token
        if token and self.headers.get("Authorization") != f"Bearer {token}":
            self.send_error(401 if "Authorization" not in self.headers else 403)
            return False
        return True

    def do_HEAD(self) -> None:
        if self._authorized():
            super().do_HEAD()

    def do_GET(self) -> None:
        if not self._authorized():
            return
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not header or not os.path.isfile(path):
            self.send_error(400, "ranged reads only")
            return
        start, end = (int(x) for x in header.removeprefix("bytes=").split("-"))
        size = os.path.getsize(path)
        end = min(end, size - 1)
        self.server.ranges.append(header)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left:
                piece = f.read(min(left, 1024 * 1024))
                self.wfile.write(piece)
                left -= len(piece)


class RangeServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, directory: Path, token: str | None = None) -> None:
        self.ranges: list[str] = []
        self.token = token
        super().__init__(("127.0.0.1", 0), lambda *a, **k: RangeHandler(*a, directory=str(directory), **k))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


@contextmanager
def range_http(directory: Path, token: str | None = None) -> Iterator[RangeServer]:
    """A :class:`RangeServer` over ``directory`` (a bearer ``token`` required when given), in a thread."""
    server = RangeServer(directory, token)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
