"""The processing trigger against the emulator: serialization and every event it can yield."""

import time

import pytest

from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.triggers.processing import MediaProcessingTrigger


def test_serialize_is_exact():
    trigger = MediaProcessingTrigger(api="x", conn_id="c", media_id="42", poll_interval=3.0, deadline=100.0)
    assert trigger.serialize() == (
        "airflow_provider_chunkup.triggers.processing.MediaProcessingTrigger",
        {"api": "x", "conn_id": "c", "media_id": "42", "until": None, "poll_interval": 3.0, "deadline": 100.0},
    )
    classpath, kwargs = trigger.serialize()
    assert MediaProcessingTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.fixture
def pending_video(x_connection, media_file, emulator):
    conn_id = x_connection()
    emulator.config.x.processing_seconds = 3.0
    emulator.config.x.check_after_secs = 1
    result = XMediaUploadHook(conn_id).upload(media_file(2048))
    return conn_id, result.media_id


async def test_waits_for_success(pending_video):
    conn_id, media_id = pending_video
    trigger = MediaProcessingTrigger(api="x", conn_id=conn_id, media_id=media_id, poll_interval=0.2)
    started = time.monotonic()
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "succeeded"
    assert event.payload["media_id"] == media_id
    assert time.monotonic() - started >= 1.0  # honoured check_after_secs (1 s) over poll_interval


async def test_reports_failure_with_platform_reason(pending_video, emulator):
    conn_id, media_id = pending_video
    emulator.config.x.processing_outcome = "failed"
    event = await MediaProcessingTrigger(api="x", conn_id=conn_id, media_id=media_id).run().__anext__()
    assert event.payload["status"] == "failed"
    assert event.payload["processing"]["error"]["name"] == "InvalidMedia"


async def test_times_out_at_deadline(pending_video):
    conn_id, media_id = pending_video
    trigger = MediaProcessingTrigger(api="x", conn_id=conn_id, media_id=media_id, deadline=time.time() + 0.1)
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "timeout"


async def test_errors_become_events(x_connection):
    conn_id = x_connection()
    event = await MediaProcessingTrigger(api="x", conn_id=conn_id, media_id="999").run().__anext__()
    assert event.payload["status"] == "error"
    assert "HTTP 404" in event.payload["message"]


async def test_apivideo_trigger_waits_until_every_quality_is_encoded(apivideo_connection, media_file, emulator):
    from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook

    conn_id = apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0.2
    emulator.config.apivideo.encoding_seconds = 3.0
    result = ApiVideoHook(conn_id).upload(media_file(4096))
    trigger = MediaProcessingTrigger(api="apivideo", conn_id=conn_id, media_id=result.media_id, until="encoded",
                                     poll_interval=0.2)
    started = time.monotonic()
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "succeeded"
    assert event.payload["processing"]["progress_percent"] == 100
    assert time.monotonic() - started >= 1.0  # it kept polling until the last quality was encoded
