"""Vimeo clients on the emulator: the API under ``/vimeo`` with the default token, and a bare tus client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer

from .helpers import ACCEPT, TOKEN


@pytest.fixture
def vimeo(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """The API (base ``<emulator>/vimeo``) with ``Authorization: Bearer vimeo-token`` and Vimeo's Accept header."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": ACCEPT}
    with httpx.Client(base_url=f"{emulator.url}/vimeo", headers=headers, timeout=30) as c:
        yield c


@pytest.fixture
def link(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """Upload links: ``Tus-Resumable: 1.0.0`` and no credentials, as Vimeo's tus host wants."""
    with httpx.Client(headers={"Tus-Resumable": "1.0.0"}, timeout=30) as c:
        yield c
