"""Fixtures for the emulator tests: a real server on 127.0.0.1 per test, and httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_clock import EmulatorClock, controlled_clock

from airflow_provider_chunkup.emulators import EmulatorServer

from .support import APIVIDEO_MIN_CHUNK, BEARER, CR_BEARER, apivideo_basic


@pytest.fixture(scope="session")
def shared_emulator() -> Iterator[EmulatorServer]:
    """One server for the whole run: uvicorn takes ~0.2 s to shut down, too slow per test."""
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(shared_emulator: EmulatorServer) -> EmulatorServer:
    """The shared server, reset to its startup config with no uploads, stats, limits or faults."""
    shared_emulator.reset()
    return shared_emulator


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """Authenticated with the default bearer token."""
    with httpx.Client(base_url=emulator.url, headers=BEARER, timeout=30) as c:
        yield c


@pytest.fixture
def anon(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """No credentials: for the control endpoints and auth failures."""
    with httpx.Client(base_url=emulator.url, timeout=30) as c:
        yield c


@pytest.fixture
def av(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """api.video with the default API key (Basic); ``min_chunk_bytes`` lowered to ``APIVIDEO_MIN_CHUNK``."""
    emulator.config.apivideo.min_chunk_bytes = APIVIDEO_MIN_CHUNK
    with httpx.Client(base_url=emulator.url, headers=apivideo_basic(), timeout=30) as c:
        yield c


@pytest.fixture
def cr(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """The Content-Range API (SelfCommunity / django-chunked-upload) with its default bearer token."""
    with httpx.Client(base_url=emulator.url, headers=CR_BEARER, timeout=30) as c:
        yield c


@pytest.fixture
def clock(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorClock:
    """The emulator's clock, paused: processing, expiry and rate-limit windows move only by ``advance``."""
    return controlled_clock(monkeypatch)
