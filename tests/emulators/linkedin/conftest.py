"""LinkedIn clients on the emulator: the versioned API with the default token, parts shrunk for speed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorServer

from .helpers import HEADERS

PART = 1000


@pytest.fixture
def linkedin(emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """Bearer, ``LinkedIn-Version`` and ``X-Restli-Protocol-Version: 2.0.0``; ``part_bytes`` lowered to ``PART``."""
    emulator.config.linkedin.part_bytes = PART
    with httpx.Client(base_url=emulator.url, headers=HEADERS, timeout=30) as c:
        yield c
