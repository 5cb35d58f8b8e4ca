"""The processing trigger against the emulator: serialization and every event it can yield."""

import asyncio
import contextlib
import time

import httpx
import pytest
from emulator_clock import controlled_clock

from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.triggers.processing import MediaProcessingTrigger

X_STATUS = "GET /2/media/upload"
APIVIDEO_STATUS = "GET /videos/{videoId}/status"


async def answered(emulator, route: str) -> int:
    """How many requests on ``route`` the emulator has answered since its stats were reset."""
    async with httpx.AsyncClient(base_url=emulator.url) as client:
        return (await client.get("/_emulator/stats")).json()["routes"].get(route, {}).get("requests", 0)


async def polls(emulator, route: str, at_least: int, run: asyncio.Future) -> None:
    """Wait until the emulator has answered ``at_least`` requests on ``route``; fail if the trigger ends first."""
    deadline = time.monotonic() + 60
    while True:
        count = await answered(emulator, route)
        if count >= at_least:
            return
        if run.done():
            pytest.fail(f"the trigger ended after {count} polls, before {at_least}: {run.result()}")
        assert time.monotonic() < deadline, f"{count} polls of {route} in 60 s, expected {at_least}"
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(trigger: MediaProcessingTrigger):
    """The trigger's first event as a future, polling in the background; cancelled if the test ends first."""
    run = asyncio.ensure_future(trigger.run().__anext__())
    try:
        yield run
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)


def reset_stats(emulator) -> None:
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()


def test_serialize_is_exact():
    trigger = MediaProcessingTrigger(api="x", conn_id="c", media_id="42", poll_interval=3.0, deadline=100.0)
    assert trigger.serialize() == (
        "airflow_provider_chunkup.triggers.processing.MediaProcessingTrigger",
        {"api": "x", "conn_id": "c", "media_id": "42", "until": None, "poll_interval": 3.0, "deadline": 100.0},
    )
    classpath, kwargs = trigger.serialize()
    assert MediaProcessingTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.fixture
def clock(emulator, monkeypatch):
    """The emulator's clock, paused: processing stays pending until the test moves it on."""
    return controlled_clock(monkeypatch)


@pytest.fixture
def pending_video(x_connection, media_file, emulator, clock):
    conn_id = x_connection()
    emulator.config.x.processing_seconds = 3.0
    emulator.config.x.check_after_secs = 1
    result = XMediaUploadHook(conn_id).upload(media_file(2048))
    reset_stats(emulator)
    return conn_id, result.media_id


async def test_waits_for_success(pending_video, emulator, clock):
    conn_id, media_id = pending_video
    trigger = MediaProcessingTrigger(api="x", conn_id=conn_id, media_id=media_id, poll_interval=0.2)
    started = time.monotonic()
    async with running(trigger) as run:
        await polls(emulator, X_STATUS, 1, run)  # it saw "pending", with check_after_secs 1...
        clock.advance(3.0)  # ...and processing is over before it looks again
        event = await run
    assert event.payload["status"] == "succeeded"
    assert event.payload["media_id"] == media_id
    assert time.monotonic() - started >= 1.0  # honoured check_after_secs (1 s) over poll_interval


async def test_reports_failure_with_platform_reason(pending_video, emulator, clock):
    conn_id, media_id = pending_video
    emulator.config.x.processing_outcome = "failed"
    clock.advance(3.0)
    event = await MediaProcessingTrigger(api="x", conn_id=conn_id, media_id=media_id).run().__anext__()
    assert event.payload["status"] == "failed"
    assert event.payload["processing"]["error"]["name"] == "InvalidMedia"


async def test_times_out_at_deadline(pending_video):
    conn_id, media_id = pending_video  # pending for as long as the clock stands still
    trigger = MediaProcessingTrigger(api="x", conn_id=conn_id, media_id=media_id, deadline=time.time() + 0.1)
    event = await trigger.run().__anext__()
    assert event.payload["status"] == "timeout"


async def test_errors_become_events(x_connection):
    conn_id = x_connection()
    event = await MediaProcessingTrigger(api="x", conn_id=conn_id, media_id="999").run().__anext__()
    assert event.payload["status"] == "error"
    assert "HTTP 404" in event.payload["message"]


async def test_apivideo_trigger_waits_until_every_quality_is_encoded(apivideo_connection, media_file, emulator,
                                                                     clock):
    from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook

    conn_id = apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0.2
    emulator.config.apivideo.encoding_seconds = 3.0
    result = ApiVideoHook(conn_id).upload(media_file(4096))
    reset_stats(emulator)
    trigger = MediaProcessingTrigger(api="apivideo", conn_id=conn_id, media_id=result.media_id, until="encoded",
                                     poll_interval=0.2)
    async with running(trigger) as run:
        await polls(emulator, APIVIDEO_STATUS, 1, run)
        clock.advance(1.0)  # playable (240p and 360p encoded), the rest still encoding
        seen = await answered(emulator, APIVIDEO_STATUS)
        await polls(emulator, APIVIDEO_STATUS, seen + 2, run)  # the second of these began after the advance
        clock.advance(2.0)  # every quality encoded
        event = await run
    assert event.payload["status"] == "succeeded"
    assert event.payload["processing"]["progress_percent"] == 100  # it did not stop at playable
