"""Meta clients on the emulator: Graph (``/v23.0``, the token in the query) and a bare one for rupload URLs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer

from .helpers import TOKEN, VERSION


@pytest.fixture
def graph(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """Graph (base ``<emulator>/v23.0``) with ``access_token`` in the query; windows of 64 KiB."""
    emulator.config.meta.window_bytes = 64 * 1024
    with httpx.Client(base_url=f"{emulator.url}/{VERSION}", params={"access_token": TOKEN}, timeout=30) as c:
        yield c


@pytest.fixture
def plain(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """No credentials nor base: for rupload URLs (their token goes in a header) and Graph without a token."""
    with httpx.Client(timeout=30) as c:
        yield c
