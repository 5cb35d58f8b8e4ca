"""MediaProcessingSensor in poke and deferrable modes against the emulator."""

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, TaskDeferred
from emulator_clock import controlled_clock

from airflow_provider_chunkup.hooks.x import XMediaUploadHook
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor
from airflow_provider_chunkup.triggers.processing import MediaProcessingTrigger


@pytest.fixture
def clock(emulator, monkeypatch):
    """The emulator's clock, paused: X's processing stays where it is until the test moves it on."""
    return controlled_clock(monkeypatch)


@pytest.fixture
def uploaded(x_connection, media_file, emulator, clock):
    conn_id = x_connection()
    emulator.config.x.processing_seconds = 2.0
    return XMediaUploadHook(conn_id).upload(media_file(4096)).to_dict()


def test_poke_mode_waits_until_succeeded(uploaded, clock):
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, poke_interval=0.1, timeout=30)
    assert sensor.poke({}) is False  # still pending, however long the upload took
    clock.resume()  # processing now takes its 2 s while the sensor pokes
    result = sensor.execute({})
    assert result["state"] == "succeeded"


def test_poke_mode_fails_with_platform_reason(uploaded, emulator):
    emulator.config.x.processing_outcome = "failed"
    emulator.config.x.processing_seconds = 0
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, poke_interval=0.1, timeout=30)
    with pytest.raises(AirflowFailException, match="InvalidMedia 1: Unsupported video format"):
        sensor.execute({})


def test_nothing_to_process_succeeds_without_a_request(set_connection):
    set_connection("unreachable", conn_type="chunkup_x", host="http://127.0.0.1:9", password="t")
    result = {"api": "x", "media_id": "1", "size": 5, "conn_id": "unreachable", "processing": None}
    assert MediaProcessingSensor(task_id="wait", upload=result).execute({})["state"] == "none"
    assert MediaProcessingSensor(task_id="wait", upload=result, deferrable=True).execute({})["state"] == "none"


def test_deferrable_defers_to_trigger_and_completes(uploaded):
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, deferrable=True, poke_interval=0.5, timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, MediaProcessingTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert trigger.media_id == uploaded["media_id"] and trigger.conn_id == uploaded["conn_id"]
    event = {"status": "succeeded", "media_id": "1", "processing": {"state": "succeeded"}}
    assert sensor.execute_complete({}, event)["state"] == "succeeded"


def test_execute_complete_failures():
    sensor = MediaProcessingSensor(task_id="wait", media_id="7")
    with pytest.raises(AirflowFailException, match="InvalidMedia"):
        sensor.execute_complete({}, {"status": "failed", "media_id": "7", "processing": {
            "state": "failed", "error": {"code": 1, "name": "InvalidMedia", "message": "bad"}}})
    with pytest.raises(AirflowException, match="timeout ran out"):
        sensor.execute_complete({}, {"status": "timeout", "media_id": "7", "processing": {"state": "in_progress"}})
    with pytest.raises(AirflowException, match="HTTP 404"):
        sensor.execute_complete({}, {"status": "error", "media_id": "7", "message": "HTTP 404"})


def test_needs_upload_or_media_id():
    from airflow_provider_chunkup.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="needs upload"):
        MediaProcessingSensor(task_id="wait").execute({})


def test_apivideo_until_encoded_in_both_modes(apivideo_connection, media_file, emulator):
    from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook

    conn_id = apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0.2
    emulator.config.apivideo.encoding_seconds = 1.0
    uploaded = ApiVideoHook(conn_id).upload(media_file(4096)).to_dict()
    assert uploaded["api"] == "apivideo"
    poked = MediaProcessingSensor(task_id="wait", upload=uploaded, until="encoded", poke_interval=0.1, timeout=30)
    assert poked.execute({})["state"] == "succeeded"
    deferred = MediaProcessingSensor(task_id="wait2", upload=uploaded, until="encoded", deferrable=True)
    assert deferred.execute({})["state"] == "succeeded"  # already encoded: no deferral needed


def test_apivideo_failed_quality_fails_the_sensor(apivideo_connection, media_file, emulator):
    from airflow_provider_chunkup.hooks.apivideo import ApiVideoHook

    conn_id = apivideo_connection()
    emulator.config.apivideo.playable_after_secs = 0
    emulator.config.apivideo.encoding_seconds = 0
    emulator.config.apivideo.encoding_outcome = "failed"
    uploaded = ApiVideoHook(conn_id).upload(media_file(4096)).to_dict()
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, until="encoded", poke_interval=0.1, timeout=30)
    with pytest.raises(AirflowFailException, match="failed to encode"):
        sensor.execute({})


def test_content_range_media_has_nothing_to_process(content_range_connection, media_file):
    from airflow_provider_chunkup.hooks.content_range import ContentRangeUploadHook

    conn_id = content_range_connection()
    uploaded = ContentRangeUploadHook(conn_id).upload(media_file(300_000, "photo.png")).to_dict()
    assert uploaded["processing"] is None
    assert MediaProcessingSensor(task_id="wait", upload=uploaded, deferrable=True).execute({})["state"] == "none"
