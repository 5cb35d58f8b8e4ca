"""Run the emulator app with uvicorn in a background thread."""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .._net import is_loopback
from .app import build_app
from .config import EmulatorConfig
from .core.faults import FaultInjector

START_TIMEOUT_SECS = 10.0
STOP_TIMEOUT_SECS = 10.0


class EmulatorServer:
    """The emulator on ``host:port`` for the lifetime of a ``with`` block (or start/stop).

    ``host``, ``port`` and ``data_dir`` default to the config's values (127.0.0.1, a free port,
    a temp directory that is removed on ``stop()``). ``config`` stays live: change it and the
    next request sees the change. Binding to anything but loopback needs ``allow_remote=True``:
    the emulator has no real security. ``faults`` (rule dicts, see ``core/faults.py``) are active from
    the start and again after ``reset()``; their random draws follow ``fault_seed``. With
    ``tls_cert`` and ``tls_key`` (PEM files) it serves HTTPS: clients that only speak https (tweepy)
    can then talk to it, and OAuth 1.0a signatures are checked against the https URL they signed.
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str | None = None,
        port: int | None = None,
        data_dir: str | Path | None = None,
        *,
        allow_remote: bool = False,
        log_level: str = "warning",
        faults: Sequence[dict[str, Any]] = (),
        fault_seed: int | None = None,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
    ) -> None:
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("TLS needs both a certificate and its private key (tls_cert and tls_key)")
        self.config = config or EmulatorConfig()
        if host is not None:
            self.config.host = host
        if port is not None:
            self.config.port = port
        if data_dir is not None:
            self.config.data_dir = Path(data_dir)
        if not allow_remote and not is_loopback(self.config.host):
            raise ValueError(
                f"refusing to bind the emulator to non-loopback host {self.config.host!r}; "
                "pass allow_remote=True (CLI: --allow-remote) to make it reachable from other machines"
            )
        self.log_level = log_level
        self.tls_cert = str(tls_cert) if tls_cert is not None else None
        self.tls_key = str(tls_key) if tls_key is not None else None
        self.faults = list(faults)
        self.fault_seed = fault_seed
        FaultInjector(fault_seed).add_all(self.faults)  # a bad rule fails here, not in start()
        self.app: Starlette | None = None
        self._owned_data_dir: Path | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{host}:{self.config.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> EmulatorServer:
        """Bind, serve in a daemon thread, and return once the server accepts connections."""
        if self.running:
            return self
        if self.config.data_dir is None:
            self._owned_data_dir = Path(tempfile.mkdtemp(prefix="chunkup-emulator-"))
            self.config.data_dir = self._owned_data_dir
        Path(self.config.data_dir).mkdir(parents=True, exist_ok=True)
        # Binding here (not in uvicorn) makes port 0 resolve before start() returns, race-free.
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError:
            sock.close()
            self._cleanup_data_dir()
            raise
        self.config.port = sock.getsockname()[1]
        self.app = build_app(self.config, self.faults, self.fault_seed)
        uv_config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            # Leave the host process's logging alone (tests, Airflow workers): no dictConfig.
            log_config=None,
            access_log=False,
            lifespan="off",
            # Large segments: let a slow client take its time without tripping keep-alive reaping.
            timeout_keep_alive=30,
            ssl_certfile=self.tls_cert,
            ssl_keyfile=self.tls_key,
        )
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="chunkup-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("chunkup emulator failed to start (see the log above)")
            time.sleep(0.005)
        return self

    def reset(self) -> None:
        """Restore the startup config and fault rules; forget uploads, stats and rate-limit windows.

        Goes through ``POST /_emulator/reset`` so the reset runs on the server's event loop,
        not concurrently with a request it would pull the state from under.
        """
        if not self.running:
            raise RuntimeError("the emulator is not running")
        request = urllib.request.Request(f"{self.url}/_emulator/reset", method="POST")
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]  # loopback, never a proxy
        if self.tls_cert:  # our own server on loopback: its certificate need not name the address
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            handlers.append(urllib.request.HTTPSHandler(context=context))
        no_proxy = urllib.request.build_opener(*handlers)
        with no_proxy.open(request, timeout=STOP_TIMEOUT_SECS) as response:
            response.read()

    def stop(self) -> None:
        """Shut down, wait for the thread, and remove the data dir if it was a temp one."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_SECS)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(STOP_TIMEOUT_SECS)
        self._thread = None
        self._server = None
        self._cleanup_data_dir()

    def _cleanup_data_dir(self) -> None:
        if self._owned_data_dir is not None:
            shutil.rmtree(self._owned_data_dir, ignore_errors=True)
            self.config.data_dir = None
            self._owned_data_dir = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
