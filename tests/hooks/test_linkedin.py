"""LinkedInHook against the emulator's LinkedIn front door: byte-exact parts, resume after a kill, states, Test."""

import hashlib
import json

import httpx
import pytest

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.get_provider_info import LINKEDIN_CONN_FIELDS as CONN_FIELDS
from airflow_provider_chunkup.get_provider_info import LINKEDIN_UI as UI_FIELD_BEHAVIOUR
from airflow_provider_chunkup.hooks.linkedin import LinkedInHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.linkedin import DEFAULT_BASE, DEFAULT_VERSION

MiB = 1024 * 1024
TOKEN = "linkedin-token"
PERSON = "urn:li:person:chunkup"


@pytest.fixture
def linkedin_connection(emulator, set_connection):
    """A chunkup_linkedin connection to the emulator (its default token and member owner)."""

    def define(conn_id: str = "chunkup_linkedin_default", *, password: str = TOKEN, **extra):
        extra = {"owner": PERSON, **extra}
        return set_connection(conn_id, conn_type="chunkup_linkedin", host=emulator.url, password=password,
                              extra=extra)

    return define


def inspect(emulator, urn: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/linkedin/videos/{urn}")
    response.raise_for_status()
    return response.json()


def part_puts(emulator) -> tuple[int, int]:
    """(requests, body bytes) of every part PUT so far."""
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    puts = [v for k, v in routes.items() if k.startswith("PUT /linkedin-upload")]
    return sum(v["requests"] for v in puts), sum(v["body_bytes"] for v in puts)


def test_connection_settings(set_connection):
    set_connection("li_prod", conn_type="chunkup_linkedin", password="tok",
                   extra={"owner": "urn:li:organization:2414183"})
    hook = LinkedInHook("li_prod")
    protocol = hook.get_conn()
    assert protocol.api_base == DEFAULT_BASE and protocol.version == DEFAULT_VERSION
    assert protocol.owner == "urn:li:organization:2414183" and hook.max_in_flight() == 4
    caps = protocol.capabilities
    assert caps.parallel_segments and caps.secret_session and caps.processes_media and not caps.abortable
    assert {"owner", "linkedin_version", "max_chunk_size", "max_in_flight", "timeout"} <= set(CONN_FIELDS)
    assert UI_FIELD_BEHAVIOUR["relabeling"]["password"] == "Access token"


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "access token"),
    ({"password": "t", "extra": {"owner": "urn:li:company:1"}}, "urn:li:person"),
    ({"password": "t", "extra": {"linkedin_version": "2024-11"}}, "YYYYMM"),
    ({"password": "t", "extra": {"linkedin_version": "209912"}}, "still to come"),
    ({"password": "t", "host": "http://linkedin.example.com"}, "allow_insecure_http"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("li_bad", conn_type="chunkup_linkedin", **fields)
    with pytest.raises(ConfigurationError, match=message):
        LinkedInHook("li_bad").get_conn()


@pytest.mark.parametrize("in_flight", [1, 3])
def test_upload_byte_exact_then_available(linkedin_connection, media_file, emulator, in_flight):
    linkedin_connection(max_in_flight=in_flight)
    emulator.config.linkedin.part_bytes = MiB
    emulator.config.linkedin.processing_secs = 0.2
    path = media_file(5 * MiB + 123, "launch.mp4")
    hook = LinkedInHook()
    result = hook.upload(str(path))
    got = inspect(emulator, result.media_id)
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256
    assert got["owner"] == PERSON and len(got["etags"]) == 6 and all(got["etags"])
    assert result.media_id.startswith("urn:li:video:") and result.details["owner"] == PERSON
    assert part_puts(emulator) == (6, 5 * MiB + 123)  # every part once, no byte twice
    assert "linkedin-upload" not in json.dumps(result.to_dict())  # no signed URL in what goes to XCom
    status = hook.status(result.media_id)
    while not status.done:  # the emulator's processing clock: a fraction of a second
        assert status.state == "in_progress"
        status = hook.status(result.media_id)
    assert status.state == "succeeded" and status.progress_percent == 100


def test_single_part_upload_with_an_empty_upload_token(linkedin_connection, media_file, emulator):
    linkedin_connection()
    path = media_file(100 * 1024)
    result = LinkedInHook().upload(str(path))
    got = inspect(emulator, result.media_id)
    assert got["upload_token"] == "" and len(got["etags"]) == 1
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_killed_upload_resumes_and_sends_only_the_parts_without_an_etag(linkedin_connection, media_file, emulator):
    """Part 2 is cut mid-body with no retry allowed; the retry from the checkpoint sends parts 2..4 only."""
    linkedin_connection(max_in_flight=1, retry_max_attempts=1)
    emulator.config.linkedin.part_bytes = MiB
    path = media_file(4 * MiB + 77, "resumed.mp4")
    store = MemoryStore()
    rule = {"match": r"PUT /linkedin-upload/\w+/2\?", "action": "drop", "when": "mid_body", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(RetryExhausted):
        LinkedInHook().upload(str(path), checkpoint=Checkpoint(store), abort_on_failure=False)
    kept = store["chunkup.upload"]["session"]
    assert [bool(e) for e in kept["remote"]["etags"]] == [True, True, False, False, False]
    before = part_puts(emulator)
    result = LinkedInHook().upload(str(path), checkpoint=Checkpoint(store))
    after = part_puts(emulator)
    assert after[0] - before[0] == 3 and after[1] - before[1] == 2 * MiB + 77  # parts 2, 3 and 4 only
    got = inspect(emulator, result.media_id)
    assert got["urn"] == kept["media_id"]  # the same video, not a second initializeUpload
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["linkedin_videos_created"] == 1


def test_processing_failure_is_linkedins_word(linkedin_connection, media_file, emulator):
    linkedin_connection()
    emulator.config.linkedin.processing_secs = 0.0
    emulator.config.linkedin.failure_rate = 1.0
    result = LinkedInHook().upload(str(media_file(100 * 1024)))
    status = LinkedInHook().status(result.media_id)
    assert status.state == "failed" and "PROCESSING_FAILED" in status.reason()


def test_wrong_owner_is_refused_in_words(linkedin_connection, media_file, emulator):
    linkedin_connection(owner="urn:li:organization:999")
    with pytest.raises(AuthenticationFailed, match=r"Not enough permissions.*w_organization_social"):
        LinkedInHook().upload(str(media_file(100 * 1024)))


def test_wrong_token_fails_without_retry(linkedin_connection, media_file, emulator):
    linkedin_connection(password="not-the-token")
    with pytest.raises(AuthenticationFailed, match=r"401.*Invalid access token.*password"):
        LinkedInHook().upload(str(media_file(100 * 1024)))
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["linkedin_videos_created"] == 0


def test_inactive_version_names_the_fix(linkedin_connection, media_file, emulator):
    linkedin_connection(linkedin_version="202301")
    with pytest.raises(RemoteRejected, match=r"426.*not active.*linkedin_version"):
        LinkedInHook().upload(str(media_file(100 * 1024)))


def test_split_steps_are_refused_the_session_holds_signed_urls(linkedin_connection, media_file, emulator):
    from airflow_provider_chunkup.operators.upload import refuse_secret_session

    linkedin_connection()
    with pytest.raises(ConfigurationError, match="ChunkedUploadOperator"):
        refuse_secret_session(LinkedInHook())


def test_test_connection(linkedin_connection, emulator):
    linkedin_connection()
    ok, message = LinkedInHook().test_connection()
    assert ok, message
    linkedin_connection(password="wrong-token")
    ok, message = LinkedInHook().test_connection()
    assert not ok and "wrong-token" not in message and "401" in message


@pytest.mark.parametrize("restart", [False, True])
def test_expired_upload_urls_fail_or_open_a_new_upload(linkedin_connection, media_file, emulator, restart):
    """A checkpointed upload past uploadUrlsExpireAt: refused, or (restart_expired) sent again as a new video."""
    linkedin_connection(max_in_flight=1, retry_max_attempts=1, restart_expired=restart)
    emulator.config.linkedin.part_bytes = MiB
    path = media_file(2 * MiB + 5, "late.mp4")
    store = MemoryStore()
    rule = {"match": r"PUT /linkedin-upload/\w+/1\?", "action": "drop", "when": "mid_body", "times": 1}
    httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()
    with pytest.raises(RetryExhausted):
        LinkedInHook().upload(str(path), checkpoint=Checkpoint(store), abort_on_failure=False)
    record = store["chunkup.upload"]
    record["session"]["expires_at"] = 1.0  # the signed URLs' day has passed
    store["chunkup.upload"] = record
    if not restart:
        with pytest.raises(UploadExpired, match="restart_expired=true"):
            LinkedInHook().upload(str(path), checkpoint=Checkpoint(store))
        return
    result = LinkedInHook().upload(str(path), checkpoint=Checkpoint(store))
    assert result.media_id != record["session"]["media_id"]
    assert inspect(emulator, result.media_id)["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["linkedin_videos_created"] == 2


@pytest.mark.parametrize(("failure_rate", "outcome"), [(0.0, "succeeded"), (1.0, "PROCESSING_FAILED")])
def test_the_sensor_reads_linkedins_states(linkedin_connection, media_file, emulator, monkeypatch, failure_rate,
                                           outcome):
    """The processing sensor polls the video (the registry names LinkedIn's hook) to its last state."""
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_chunkup.hooks import registry
    from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

    assert registry.BY_API["linkedin"] is LinkedInHook
    linkedin_connection()
    emulator.config.linkedin.processing_secs = 0.0
    emulator.config.linkedin.failure_rate = failure_rate
    uploaded = LinkedInHook().upload(str(media_file(100 * 1024))).to_dict()
    uploaded["processing"] = {"state": "in_progress"}  # as finalize saw it: the sensor must ask LinkedIn
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, poke_interval=0.1, timeout=30)
    if outcome == "succeeded":
        assert sensor.execute({})["state"] == "succeeded"
    else:
        with pytest.raises(AirflowFailException, match="PROCESSING_FAILED"):
            sensor.execute({})
