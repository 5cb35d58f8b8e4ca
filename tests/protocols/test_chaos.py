"""Chaos: many uploads across every API while about 10% of chunk requests fail, all byte-exact.

The emulator's ``chunks:0.1`` preset faults about a tenth of the chunk-carrying requests with a
seeded mix: 500/502/503 before the handler, 429 bursts with each API's own headers, connections
dropped mid-body, 5xx after the chunk was stored (the answer lost), and slow answers. Every upload
must complete with exactly the file's bytes and exactly one remote media; the figures (faults
injected, requests and bytes sent again) are printed for the record (``pytest -s``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook

MiB = 1024 * 1024
FAST_RETRY = {"retry_backoff_initial": 0.02, "retry_backoff_max": 0.2, "retry_max_attempts": 8}

# name: (uploads, file size, chunk size, requests in flight, chunk route in the emulator's stats, init route)
PLAN = {
    # tus first: one upload in order (its connection asks no more in flight), PATCHes one at a time, so the
    # faults it meets are fixed by the seed alone.
    "tus": (4, 6 * MiB + 9, 512 * 1024, 1, "PATCH /files/{upload_id}", "POST /files/"),
    # The same server, the connection asking 3 in flight: each segment a partial upload, joined by a final one.
    "tus_parts": (3, 6 * MiB + 9, 512 * 1024, 3, "PATCH /files/{upload_id}", "POST /files/"),
    "x_v2": (5, 7 * MiB + 3, MiB, 3, "POST /2/media/upload/{id}/append", "POST /2/media/upload/initialize"),
    "x_v1.1": (4, 5 * MiB + 1, MiB, 3, "POST /1.1/media/upload.json APPEND", "POST /1.1/media/upload.json INIT"),
    "apivideo": (4, 21 * MiB, 5 * MiB, 3, "POST /videos/{videoId}/source", "POST /videos"),
    "content_range": (5, 2 * MiB + 77, 204800, 3, "POST /api/v2/media/upload/chunk", None),
}


@pytest.fixture
def tus_connection(emulator, set_connection) -> Callable[..., str]:
    """A chunkup_tus connection to the emulator's generic tus server (open, as the emulator serves it by default)."""

    def define(conn_id: str, **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_tus", host=f"{emulator.url}/files/",
                              extra={**FAST_RETRY, **extra})

    return define


@pytest.mark.parametrize("seed", [7, 2026])
def test_uploads_complete_byte_exact_through_ten_percent_faults(seed, emulator, x_connection, apivideo_connection,
                                                                content_range_connection, tus_connection, media_file,
                                                                received):
    x_connection("x_v2", **FAST_RETRY)
    x_connection("x_v11", auth="oauth1", api_version="v1.1", **FAST_RETRY)
    apivideo_connection(**FAST_RETRY)
    content_range_connection(**FAST_RETRY)
    tus_connection("tus_in_order")
    tus_connection("tus_parts", max_in_flight=3)  # the connection's max_in_flight chooses parts at init
    httpx.post(f"{emulator.url}/_emulator/faults", json={"preset": "chunks:0.1", "seed": seed}).raise_for_status()
    hooks = {"x_v2": lambda: XMediaUploadHook("x_v2"), "x_v1.1": lambda: XMediaUploadHook("x_v11"),
             "apivideo": ApiVideoHook, "content_range": ContentRangeUploadHook,
             "tus": lambda: TusUploadHook("tus_in_order"), "tus_parts": lambda: TusUploadHook("tus_parts")}

    media, per_api = set(), {}
    for name, (count, size, chunk, in_flight, chunk_route, init_route) in PLAN.items():
        before = _routes(emulator)
        for n in range(count):
            path = media_file(size, f"{name}-{n}.mp4" if name != "content_range" else f"{name}-{n}.pdf")
            result = hooks[name]().upload(path, chunk_size=chunk, max_in_flight=in_flight,
                                          media_type="application/pdf" if name == "content_range" else "video/mp4")
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            assert result.sha256 == sha and result.size == size
            if name.startswith("x"):
                assert received(result.media_id)["sha256"] == sha
            elif name == "apivideo":
                assert httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result.media_id}").json()["sha256"] == sha
            elif name.startswith("tus"):
                stored = httpx.get(f"{emulator.url}/_emulator/tus/uploads/{result.media_id}").json()
                assert stored["complete"] and stored["size"] == size and stored["sha256"] == sha
                assert len(stored["parts"]) == (-(-size // chunk) if name == "tus_parts" else 0)
            else:
                stored = httpx.get(f"{emulator.url}/_emulator/content-range/media/{result.media_id}/file").content
                assert hashlib.sha256(stored).hexdigest() == sha
            media.add((name, result.media_id))
        after = _routes(emulator)
        segments = count * -(-size // chunk)
        requests, body_bytes = _grown(before, after, chunk_route)
        per_api[name] = {"uploads": count, "segments": segments, "chunk_requests": requests,
                         "bytes_of_files": count * size, "chunk_body_bytes": body_bytes,
                         "bytes_sent_again": body_bytes - count * size}
        assert body_bytes >= count * size, name
        if init_route:  # init is never repeated for an upload; parts: one creation per segment, then the final
            created = segments + count if name == "tus_parts" else count
            assert _grown(before, after, init_route, prefix=False)[0] == created, name

    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    faults = httpx.get(f"{emulator.url}/_emulator/faults").json()["injected"]
    uploads = sum(count for count, *_ in PLAN.values())
    assert len(media) == uploads  # one remote media per upload, none lost, none doubled
    assert faults["total"] >= 5, faults  # the faults really happened
    assert per_api["tus"]["chunk_requests"] > per_api["tus"]["segments"]  # tus met faults too
    totals = {key: sum(api[key] for api in per_api.values())
              for key in ("segments", "chunk_requests", "bytes_of_files", "chunk_body_bytes")}
    figures = {"seed": seed, "uploads": uploads, **totals, "faults_injected": faults,
               "requests_beyond_one_per_segment": totals["chunk_requests"] - totals["segments"],
               "bytes_sent_again_mib": round((totals["chunk_body_bytes"] - totals["bytes_of_files"]) / MiB, 2),
               # PATCHes cut mid-body whose bytes the tus server kept (only the rest of such a chunk goes again)
               "tus_broken_bodies_kept": stats["tus_broken_bodies"], "per_api": per_api}
    print("\nchaos figures:", json.dumps(figures))


def _routes(emulator) -> dict[str, dict[str, int]]:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]


def _grown(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]], route: str,
           prefix: bool = True) -> tuple[int, int]:
    """Requests and body bytes ``route`` (every route starting with it, unless not ``prefix``) received between
    two stats snapshots."""
    requests = body = 0
    for key, now in after.items():
        if key.startswith(route) if prefix else key == route:
            then = before.get(key, {})
            requests += now["requests"] - then.get("requests", 0)
            body += now["body_bytes"] - then.get("body_bytes", 0)
    return requests, body
