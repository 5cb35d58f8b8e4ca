"""TikTok clients on the emulator: the API with the default user token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer

from .helpers import TOKEN


@pytest.fixture
def tiktok(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """``Authorization: Bearer tiktok-token`` and TikTok's JSON content type."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json; charset=UTF-8"}
    with httpx.Client(base_url=emulator.url, headers=headers, timeout=30) as c:
        yield c
