"""A worker killed with SIGKILL mid-upload, then run again by Airflow, continues the same remote upload.

Each try is a real ``airflow tasks test`` process on one DAG run, so the task state store (Airflow
3.3+) is the real one in the metadata DB; the test kills the process (``kill -9``, the task and its
event loop with it) at points drawn from a seeded RNG while the emulator slows every chunk down.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from airflow_tasks import AIRFLOW, airflow_cli

MiB = 1024 * 1024

pytestmark = pytest.mark.dag


def route_stats(emulator, route: str) -> dict[str, int]:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return routes.get(route, {"requests": 0, "body_bytes": 0})


def route_requests(emulator, route: str) -> int:
    return route_stats(emulator, route)["requests"]


def run_until_killed(env: dict[str, str], run_id: str, emulator, route: str, kill_at: int) -> None:
    """Start a try, SIGKILL it once the emulator has answered ``kill_at`` requests on ``route``."""
    worker = subprocess.Popen([AIRFLOW, "tasks", "test", "chunkup_crash_upload", "upload", run_id], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while route_requests(emulator, route) < kill_at:
            assert worker.poll() is None, f"the try ended by itself (exit {worker.returncode}) before the kill"
            assert time.monotonic() < deadline, "the upload did not get far enough in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL


def trigger(env: dict[str, str], run_id: str, conf: dict[str, str]) -> None:
    done = airflow_cli("dags", "trigger", "chunkup_crash_upload", "--run-id", run_id, "--conf", json.dumps(conf),
                       env=env)
    assert done.returncode == 0, done.stderr[-3000:]


APIS = {
    # api, connection, chunk, init route, chunk route, finalize route (None: the last part completes it)
    "x": ("chunkup_x_default", MiB, "POST /2/media/upload/initialize", "POST /2/media/upload/{id}/append",
          "POST /2/media/upload/{id}/finalize"),
    "apivideo": ("chunkup_apivideo_default", 5 * MiB, "POST /videos", "POST /videos/{videoId}/source", None),
    # 8 MiB PATCHes outgrow loopback's socket buffers while the emulator holds one: a kill cuts the body.
    "tus": ("chunkup_tus_default", 8 * MiB, "POST /files/", "PATCH /files/{upload_id}", None),
    # Parallel parts: the creation route also takes each part's creation and the final upload's.
    "tus_parts": ("chunkup_tus_parts", 8 * MiB, "POST /files/", "PATCH /files/{upload_id}", None),
    # Google's resumable session: the PUT route also takes the status query a resumed try asks first.
    "youtube": ("chunkup_youtube_default", 8 * MiB, "POST /upload/youtube/v3/videos", "PUT /upload/youtube/v3/videos",
                None),
    # Graph's windows, which the emulator makes the chunk's size: each transfer carries one window.
    "facebook": ("chunkup_facebook_default", MiB, "POST /{ver}/{node}/videos start",
                 "POST /{ver}/{node}/videos transfer", "POST /{ver}/{node}/videos finish"),
    # rupload: the container's creation, then the bytes at offsets; the last byte completes the upload.
    "instagram": ("chunkup_instagram_default", MiB, "POST /{ver}/{node}/media", "POST /ig-api-upload/{ver}/{object_id}",
                  None),
    "facebook_reels": ("chunkup_facebook_reels_default", MiB, "POST /{ver}/{node}/video_reels start",
                       "POST /video-upload/{ver}/{object_id}", "POST /{ver}/{node}/video_reels finish"),
    # TikTok's smallest chunk; the file is a whole number of them (no remainder to merge into the last).
    "tiktok": ("chunkup_tiktok_default", 5 * MiB, "POST /v2/post/publish/inbox/video/init/",
               "PUT /tiktok-upload/{publish_id}", None),
    # Init and finalize are both ``POST /rest/videos`` (``?action=``): that route counts two, see REMOTE_UPLOADS.
    "linkedin": ("chunkup_linkedin_default", MiB, "POST /rest/videos", "PUT /linkedin-upload/{video_id}/{part}",
                 None),
}
SEGMENTS = {"x": 24, "apivideo": 12, "tus": 8, "tus_parts": 8, "youtube": 8, "facebook": 8, "instagram": 8,
            "facebook_reels": 8, "tiktok": 8, "linkedin": 8}
IN_FLIGHT = {"x": 3, "apivideo": 3, "tus": 1, "tus_parts": 3, "youtube": 1, "facebook": 1, "instagram": 1,
             "facebook_reels": 1, "tiktok": 1, "linkedin": 3}
"""Chunk requests a try has open at once: the DAG's max_in_flight (X, api.video, tus parts, LinkedIn's parts);
one where the API takes the bytes in order (tus, Google, Graph's windows, rupload, TikTok)."""
PROBES = {"youtube": 1, "facebook": 1, "instagram": 1, "facebook_reels": 1, "tiktok": 1}
"""Requests on the chunk route a resumed try may send beyond the chunks in flight at the kill, to learn what
the server holds: Google's status query; for Graph, the recorded window sent again and answered 1363037 with the
one the server wants; for rupload and TikTok, a chunk the server took as the kill came, sent again and answered
with the offset (rupload's ``bytes_transferred``, TikTok's ``Content-Range``) to go on from."""
INIT_REQUESTS = {"linkedin": 2}
"""Requests on the init route of one remote upload: 1, but LinkedIn's init and finalize share theirs."""
REMOTE_UPLOADS = {
    # api: the emulator's listing of remote uploads, the list's key in its answer (None: the answer is the list),
    # and each one's id; the stored one: its path (by the media id the log prints), its size field.
    "facebook": ("meta/videos", "videos", "id", "meta/videos/{}", "file_size"),
    "facebook_reels": ("meta/videos", "videos", "id", "meta/videos/{}", "file_size"),
    "instagram": ("meta/containers", "containers", "id", "meta/containers/{}", "file_size"),
    "tiktok": ("tiktok/posts", None, "publish_id", "tiktok/posts/{}", "video_size"),
    "linkedin": ("linkedin/videos", None, "urn", "linkedin/videos/{}", "size"),
}
RAW_BODIES = {"tus", "tus_parts", "instagram", "facebook_reels", "tiktok", "linkedin"}
"""APIs whose chunk requests carry the bytes as the body, a probe included (X, api.video and Graph send multipart
forms; YouTube's status queries carry no bytes, its bound is apart)."""


def chunk_pattern(route: str) -> str:
    """The fault rule's regex (searched in ``"METHOD /path?query [operation]"``) for a stats key's requests."""
    method, path, *operation = route.split(" ")
    parts = re.split(r"\{\w+\}", path)
    regex = "[^/?]+".join(re.escape(part) for part in parts) + r"(?:\?\S*)?"
    return f"^{method} {regex}" + (f" {re.escape(operation[0])}$" if operation else "$")


@pytest.fixture
def tus_connection(emulator, set_connection) -> Callable[..., None]:
    """Two chunkup_tus connections to the emulator's generic tus server.

    ``chunkup_tus_default`` sends one upload in order (the task's max_in_flight cannot make parts) and no
    checksum: the server keeps what arrived of a PATCH the kill cut, and the next try sends the rest from
    there, mid-chunk. ``chunkup_tus_parts`` asks 3 in flight, so init opens parallel partial uploads
    (concatenation), each checksummed: a cut part's PATCH is discarded and goes again whole.
    """

    def define(**extra: Any) -> None:
        set_connection("chunkup_tus_default", conn_type="chunkup_tus", host=f"{emulator.url}/files/",
                       extra={"checksum": "none", **extra})
        set_connection("chunkup_tus_parts", conn_type="chunkup_tus", host=f"{emulator.url}/files/",
                       extra={"max_in_flight": 3, **extra})

    return define


@pytest.fixture
def social_connections(emulator, set_connection) -> Callable[[int], None]:
    """The Meta, TikTok and LinkedIn connections to the emulator, whose server-dictated windows and parts (Graph's,
    LinkedIn's) are made the chunk's size, and whose processing ends at once."""

    def define(chunk: int) -> None:
        config = emulator.config
        config.meta.window_bytes = config.linkedin.part_bytes = chunk
        config.meta.processing_secs = config.tiktok.processing_secs = config.linkedin.processing_secs = 0
        meta = {"host": emulator.url, "password": "meta-token"}
        extra = {"chunk_size": chunk}
        set_connection("chunkup_facebook_default", conn_type="chunkup_facebook", **meta,
                       extra={"target": "page:1234", **extra})
        set_connection("chunkup_instagram_default", conn_type="chunkup_instagram", **meta,
                       extra={"ig_user_id": "17841400000000001", **extra})
        set_connection("chunkup_facebook_reels_default", conn_type="chunkup_facebook_reels", **meta,
                       extra={"page_id": "1234", **extra})
        set_connection("chunkup_tiktok_default", conn_type="chunkup_tiktok", host=emulator.url, password="tiktok-token",
                       extra={"mode": "inbox", **extra})
        set_connection("chunkup_linkedin_default", conn_type="chunkup_linkedin", host=emulator.url,
                       password="linkedin-token", extra={"owner": "urn:li:person:chunkup", **extra})

    return define


@pytest.mark.parametrize("api", sorted(APIS))
def test_upload_survives_sigkill_at_random_points(api, crash_env, x_connection, apivideo_connection, tus_connection,
                                                  social_connections, set_connection, emulator, media_file, received):
    """Two tries killed at random chunks, a third completes: one remote media, at most the chunks in flight
    at each kill sent twice. X cannot report what it holds, so for X everything a resumed try skips comes
    from the task state store. A tus server keeps the part of a PATCH the kill cut, and the next try asks
    its offset (HEAD): what goes again may start mid-chunk, and at most one chunk's bytes per kill. Sent as
    parallel parts, tus resumes each recorded part from its HEAD and one final upload joins them all.

    Graph dictates each window, rupload (Instagram, Facebook Reels) and TikTok say what they hold when a chunk
    arrives out of turn; TikTok's and LinkedIn's upload URLs are credentials, kept out of the task state store:
    there a resumed try finds only what it needs to ask the server again, or (LinkedIn) the parts' ETags."""
    conn_id, chunk, init_route, chunk_route, finalize_route = APIS[api]
    x_connection(chunk_size=chunk)
    apivideo_connection(chunk_size=chunk)
    tus_connection(chunk_size=chunk)
    set_connection("chunkup_youtube_default", conn_type="chunkup_youtube", host=emulator.url,
                   extra={"access_token": "youtube-token", "chunk_size": chunk})
    social_connections(chunk)
    env = {**crash_env, **{k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}}
    segments = SEGMENTS[api]
    path = media_file(segments * chunk)
    chunks_only = chunk_pattern(chunk_route)  # e.g. "^PATCH /files/[^/?]+(?:\?\S*)?$"
    httpx.post(f"{emulator.url}/_emulator/faults", json={"match": chunks_only, "action": "delay", "delay_secs": 0.15,
                                                         "times": 0}).raise_for_status()
    run_id = f"crash-{api}"
    trigger(env, run_id, {"source": str(path), "conn_id": conn_id})
    rng = random.Random(20261122)
    kills = sorted(rng.sample(range(2, segments - 2), 2))  # two kills, at chunks drawn from a fixed seed
    for kill_at in kills:
        run_until_killed(env, run_id, emulator, chunk_route, kill_at)

    last = airflow_cli("tasks", "test", "chunkup_crash_upload", "upload", run_id, env=env)
    log = last.stdout + last.stderr
    assert last.returncode == 0, log[-6000:]
    assert "from an earlier try" in log
    in_flight = IN_FLIGHT[api]
    tus = api.startswith("tus")
    if api == "tus_parts":  # a part created as the kill came may be created again; one final upload joins them
        finals = [u for u in httpx.get(f"{emulator.url}/_emulator/tus/uploads").json() if u["concat"] == "final"]
        assert len(finals) == 1 and len(finals[0]["parts"]) == segments
        assert segments + 1 <= route_requests(emulator, init_route) <= segments + 1 + in_flight * len(kills)
    else:
        assert route_requests(emulator, init_route) == INIT_REQUESTS.get(api, 1)  # one remote upload, three tries
    if api in REMOTE_UPLOADS:
        listing, key, id_field, _, _ = REMOTE_UPLOADS[api]
        held = httpx.get(f"{emulator.url}/_emulator/{listing}").json()
        assert len(held[key] if key else held) == 1, held
    chunks = route_stats(emulator, chunk_route)
    sent, body_bytes = chunks["requests"], chunks["body_bytes"]
    probes = PROBES.get(api, 0) * len(kills)
    assert segments <= sent <= segments + (in_flight + PROBES.get(api, 0)) * len(kills)  # in flight at a kill: twice
    slowed = httpx.get(f"{emulator.url}/_emulator/faults").json()["rules"][0]["hits"]
    assert sent <= slowed <= sent + in_flight * len(kills)  # the delay held up every chunk request (and only those)
    if api == "youtube":  # raw bytes too; what goes again starts where YouTube's Range says, inside a chunk maybe
        assert segments * chunk <= body_bytes <= (segments + in_flight * len(kills)) * chunk
        assert httpx.get(f"{emulator.url}/_emulator/stats").json()["youtube_videos"] == 1
    if api in RAW_BODIES:  # raw bytes in each body: a chunk again per request cut or resent
        assert segments * chunk <= body_bytes <= (segments + (in_flight + PROBES.get(api, 0)) * len(kills)) * chunk
    print(f"\ncrash figures: {api}: killed at chunks {kills}, {sent} chunk requests (at most {probes} of them asking "
          f"what the server holds) for {segments} chunks, {body_bytes - segments * chunk} chunk body bytes beyond "
          "the file's")
    if finalize_route:
        assert route_requests(emulator, finalize_route) == 1
    media_ids = {line.split("Media ", 1)[1].split(" ", 1)[0] for line in log.splitlines()
                 if "Media " in line and "bytes, sha256" in line}
    assert len(media_ids) == 1
    media_id = media_ids.pop()
    if api == "x":
        stored = received(media_id)
    elif api in REMOTE_UPLOADS:
        _, key, id_field, path_template, size_field = REMOTE_UPLOADS[api]
        assert [upload[id_field] for upload in (held[key] if key else held)] == [media_id]
        stored = httpx.get(f"{emulator.url}/_emulator/{path_template.format(media_id)}").json()
        stored = {"sha256": stored["sha256"], "size": stored[size_field]}
    else:
        kind = "tus/uploads" if tus else "youtube/videos" if api == "youtube" else "apivideo/videos"
        stored = httpx.get(f"{emulator.url}/_emulator/{kind}/{media_id}").json()
    assert stored["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored["size"] == segments * chunk
    if api == "tus":
        print(f"crash figures: {api}: {stored['kept_from_broken']} bytes kept from PATCHes the kills cut")
