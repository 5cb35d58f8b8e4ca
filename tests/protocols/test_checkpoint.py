"""Checkpoints: an interrupted upload continues the same remote upload, sending only what was in flight."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest
from emulator_idle import wait_until_idle

from airflow_provider_chunkup.errors import UploadExpired
from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook
from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.session import UploadSession

MiB = 1024 * 1024


class Crash(Exception):
    """Stands for the worker dying: raised from the progress callback after some segments."""


def crash_after(segments: int, chunk: int):
    def progress(done: int, total: int) -> None:
        if done >= segments * chunk:
            raise Crash

    return progress


def route_counts(emulator) -> dict[str, int]:
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    return {key: value["requests"] for key, value in routes.items()}


def test_x_upload_resumes_from_its_checkpoint(x_connection, media_file, emulator, received):
    """X cannot say which segments it has: the checkpoint does, and only what was in flight goes again."""
    x_connection(chunk_size=MiB)
    path = media_file(20 * MiB)
    store = MemoryStore()
    identity = {"source": str(path)}
    with pytest.raises(Crash):
        XMediaUploadHook().upload(path, media_type="video/mp4", max_in_flight=3, abort_on_failure=False,
                                  progress=crash_after(8, MiB), checkpoint=Checkpoint(store, identity=identity))
    saved = Checkpoint(store, identity=identity).session()
    assert saved is not None and len(saved.stored_segments()) >= 8
    wait_until_idle(emulator)  # the appends cancelled at the crash are counted now, not during the second try
    first_try = route_counts(emulator)
    assert first_try["POST /2/media/upload/initialize"] == 1

    checkpoint = Checkpoint(store, identity=identity)
    result = XMediaUploadHook().upload(path, media_type="video/mp4", max_in_flight=3, checkpoint=checkpoint)
    counts = route_counts(emulator)
    assert counts["POST /2/media/upload/initialize"] == 1  # the same remote upload, not a second one
    appends = counts["POST /2/media/upload/{id}/append"]
    assert appends - first_try["POST /2/media/upload/{id}/append"] == 20 - len(saved.stored_segments())
    assert appends <= 20 + 3  # at most the segments in flight at the crash went twice
    assert result.media_id == saved.media_id
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == received(result.media_id)["sha256"]
    assert checkpoint.result() is not None and checkpoint.result().media_id == result.media_id


def test_checkpoint_of_another_file_is_ignored(media_file):
    store = MemoryStore()
    session = UploadSession(api="x", media_id="1", total_bytes=10, chunk_size=5)
    Checkpoint(store, identity={"source": "/a.mp4"}).save_session(session)
    assert Checkpoint(store, identity={"source": "/b.mp4"}).session() is None
    assert Checkpoint(store, identity={"source": "/a.mp4"}).session() == session


def test_stored_ranges_stay_compact():
    session = UploadSession(api="x", media_id="1", total_bytes=100, chunk_size=10)
    for index in (3, 0, 1, 2, 7, 9, 8):
        session.mark_stored(index)
    assert session.stored == [[0, 4], [7, 10]]
    assert UploadSession.from_dict(session.to_dict()).stored_segments() == {0, 1, 2, 3, 7, 8, 9}


def test_source_size_changed_between_tries_starts_afresh_and_deletes_the_old_upload(apivideo_connection,
                                                                                      media_file, emulator):
    apivideo_connection(chunk_size=5 * MiB)
    path = media_file(20 * MiB)
    store = MemoryStore()
    identity = {"source": str(path)}
    with pytest.raises(Crash):
        ApiVideoHook().upload(path, abort_on_failure=False, progress=crash_after(1, 5 * MiB),
                              checkpoint=Checkpoint(store, identity=identity))
    old = Checkpoint(store, identity=identity).session()
    path.write_bytes(path.read_bytes()[: 12 * MiB])  # the producer rewrote the file, shorter
    result = ApiVideoHook().upload(path, checkpoint=Checkpoint(store, identity=identity))
    assert result.media_id != old.media_id
    assert httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{old.media_id}").json()["deleted"]
    assert httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result.media_id}").json()["size"] == 12 * MiB


def test_expired_checkpointed_upload_is_a_clear_error_or_a_fresh_upload(x_connection, media_file, received):
    path = media_file(2 * MiB)
    store = MemoryStore()
    identity = {"source": str(path)}
    stale = UploadSession(api="x", media_id="999", total_bytes=2 * MiB, chunk_size=MiB,
                          expires_at=time.time() - 1)
    Checkpoint(store, identity=identity).save_session(stale)
    x_connection(chunk_size=MiB)
    with pytest.raises(UploadExpired, match=r"opened by an earlier try has expired.*restart_expired=true"):
        XMediaUploadHook().upload(path, media_type="video/mp4", checkpoint=Checkpoint(store, identity=identity))
    x_connection(chunk_size=MiB, restart_expired=True)
    result = XMediaUploadHook().upload(path, media_type="video/mp4", checkpoint=Checkpoint(store, identity=identity))
    assert result.media_id != "999"
    assert received(result.media_id)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
