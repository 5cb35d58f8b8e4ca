"""Cloudflare Stream clients on the emulator: the API with the default token (chunk rules scaled down)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer

from .helpers import MAX_CHUNK, MIN_CHUNK, MULTIPLE, TOKEN


@pytest.fixture
def cf(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """``Authorization: Bearer cf-token``; chunk rules at 1/1024 scale so that tests move kilobytes, not megabytes."""
    config = emulator.config.cloudflare_stream
    config.chunk_multiple, config.min_chunk_bytes, config.max_chunk_bytes = MULTIPLE, MIN_CHUNK, MAX_CHUNK
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as c:
        yield c
