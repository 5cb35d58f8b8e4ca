"""A tus client on the emulator: plain httpx with ``Tus-Resumable: 1.0.0``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer


@pytest.fixture
def tus(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers={"Tus-Resumable": "1.0.0"}, timeout=30) as c:
        yield c
