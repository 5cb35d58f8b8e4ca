"""Clients for the Google front doors: plain (session URIs take no token) and the control endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer


@pytest.fixture
def google(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """No default credentials: each helper sends the token its front door wants."""
    with httpx.Client(base_url=emulator.url, timeout=30) as c:
        yield c
