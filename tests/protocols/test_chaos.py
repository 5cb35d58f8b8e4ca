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

import httpx
import pytest

from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook
from airflow_provider_chunkup.hooks.tus import TusUploadHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook

MiB = 1024 * 1024
FAST_RETRY = {"retry_backoff_initial": 0.02, "retry_backoff_max": 0.2, "retry_max_attempts": 8}

# name: (uploads, file size, chunk size, chunk route in the emulator's stats, init route)
PLAN = {
    # tus first: its PATCHes go one at a time, so the faults it meets are fixed by the seed alone.
    "tus": (4, 6 * MiB + 9, 512 * 1024, "PATCH /files/{upload_id}", "POST /files/"),
    "x_v2": (5, 7 * MiB + 3, MiB, "POST /2/media/upload/{id}/append", "POST /2/media/upload/initialize"),
    "x_v1.1": (4, 5 * MiB + 1, MiB, "POST /1.1/media/upload.json APPEND", "POST /1.1/media/upload.json INIT"),
    "apivideo": (4, 21 * MiB, 5 * MiB, "POST /videos/{videoId}/source", "POST /videos"),
    "content_range": (5, 2 * MiB + 77, 204800, "POST /api/v2/media/upload/chunk", None),
}


@pytest.fixture
def tus_connection(emulator, set_connection) -> str:
    """A chunkup_tus connection to the emulator's generic tus server (open, as the emulator serves it by default)."""
    return set_connection("chunkup_tus_default", conn_type="chunkup_tus", host=f"{emulator.url}/files/",
                          extra=FAST_RETRY)


@pytest.mark.parametrize("seed", [7, 2026])
def test_uploads_complete_byte_exact_through_ten_percent_faults(seed, emulator, x_connection, apivideo_connection,
                                                                content_range_connection, tus_connection, media_file,
                                                                received):
    x_connection("x_v2", **FAST_RETRY)
    x_connection("x_v11", auth="oauth1", api_version="v1.1", **FAST_RETRY)
    apivideo_connection(**FAST_RETRY)
    content_range_connection(**FAST_RETRY)
    httpx.post(f"{emulator.url}/_emulator/faults", json={"preset": "chunks:0.1", "seed": seed}).raise_for_status()
    hooks = {"x_v2": lambda: XMediaUploadHook("x_v2"), "x_v1.1": lambda: XMediaUploadHook("x_v11"),
             "apivideo": ApiVideoHook, "content_range": ContentRangeUploadHook,
             "tus": lambda: TusUploadHook(tus_connection)}

    sent_bytes, segments, media = 0, {}, set()
    for name, (count, size, chunk, _, _) in PLAN.items():
        segments[name] = count * -(-size // chunk)
        for n in range(count):
            path = media_file(size, f"{name}-{n}.mp4" if name != "content_range" else f"{name}-{n}.pdf")
            # One tus upload goes in order: with more in flight it would go as parallel parts (concatenation).
            result = hooks[name]().upload(path, chunk_size=chunk, max_in_flight=1 if name == "tus" else 3,
                                          media_type="application/pdf" if name == "content_range" else "video/mp4")
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            assert result.sha256 == sha and result.size == size
            if name.startswith("x"):
                assert received(result.media_id)["sha256"] == sha
            elif name == "apivideo":
                assert httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result.media_id}").json()["sha256"] == sha
            elif name == "tus":
                stored = httpx.get(f"{emulator.url}/_emulator/tus/uploads/{result.media_id}").json()
                assert stored["complete"] and stored["size"] == size and stored["sha256"] == sha
            else:
                stored = httpx.get(f"{emulator.url}/_emulator/content-range/media/{result.media_id}/file").content
                assert hashlib.sha256(stored).hexdigest() == sha
            media.add((name, result.media_id))
            sent_bytes += size

    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    faults = httpx.get(f"{emulator.url}/_emulator/faults").json()["injected"]
    routes = stats["routes"]
    uploads = sum(count for count, *_ in PLAN.values())
    assert len(media) == uploads  # one remote media per upload, none lost, none doubled
    for name, (count, _, _, _, init_route) in PLAN.items():
        if init_route:
            assert routes[init_route]["requests"] == count, name  # init is never repeated for an upload
    chunk_requests = sum(r["requests"] for key, r in routes.items() if _is_chunk_route(key))
    body_bytes = sum(r["body_bytes"] for key, r in routes.items() if _is_chunk_route(key))
    assert faults["total"] >= 5, faults  # the faults really happened
    assert body_bytes >= sent_bytes
    per_api = {}
    for name, (count, size, _, chunk_route, _) in PLAN.items():
        mine = [r for key, r in routes.items() if key.startswith(chunk_route)]
        per_api[name] = {"chunk_requests": sum(r["requests"] for r in mine), "segments": segments[name],
                         "bytes_sent_again": sum(r["body_bytes"] for r in mine) - count * size}
        assert per_api[name]["bytes_sent_again"] >= 0, name
    assert per_api["tus"]["chunk_requests"] > segments["tus"]  # tus met faults too
    # A PATCH cut mid-body keeps what arrived: tus sends only the rest of that chunk again.
    per_api["tus"]["broken_bodies"] = stats["tus_broken_bodies"]
    figures = {"seed": seed, "uploads": uploads, "segments": sum(segments.values()),
               "chunk_requests": chunk_requests, "faults_injected": faults,
               "requests_beyond_one_per_segment": chunk_requests - sum(segments.values()),
               "bytes_of_files": sent_bytes, "chunk_body_bytes": body_bytes,
               "bytes_sent_again_mib": round((body_bytes - sent_bytes) / MiB, 2), "per_api": per_api}
    print("\nchaos figures:", json.dumps(figures))


def _is_chunk_route(key: str) -> bool:
    return key.startswith(tuple(chunk_route for _, _, _, chunk_route, _ in PLAN.values()))
