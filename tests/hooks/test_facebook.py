"""FacebookVideoHook against the emulator's Graph video front door: byte-exact windows, resume, status, Test."""

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, RetryExhausted, UploadExpired
from airflow_provider_chunkup.get_provider_info import FACEBOOK_CONN_FIELDS as CONN_FIELDS
from airflow_provider_chunkup.get_provider_info import FACEBOOK_UI as UI_FIELD_BEHAVIOUR
from airflow_provider_chunkup.hooks.facebook import FacebookVideoHook
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.meta_graph import DEFAULT_BASE, STATUS_BASE

KiB = 1024
MiB = 1024 * KiB
TOKEN = "meta-token"


@pytest.fixture
def facebook_connection(emulator, set_connection):
    """A chunkup_facebook connection to the emulator (which serves Graph's video and status hosts)."""

    def define(conn_id: str = "chunkup_facebook_default", *, password: str = TOKEN, target: str = "page:1234",
               **extra: Any) -> str:
        return set_connection(conn_id, conn_type="chunkup_facebook", host=emulator.url, password=password,
                              extra={"target": target, **extra})

    return define


def video(emulator, media_id: str) -> dict:
    response = httpx.get(f"{emulator.url}/_emulator/meta/videos/{media_id}")
    response.raise_for_status()
    return response.json()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connection_settings(set_connection):
    set_connection("fb_prod", conn_type="chunkup_facebook", password="tok",
                   extra={"target": "act_77", "app_secret": "s3cret", "chunk_size": 8 * MiB})
    hook = FacebookVideoHook("fb_prod")
    protocol = hook.get_conn()
    assert protocol.client.base_url.rstrip("/") == DEFAULT_BASE and protocol.status_base == STATUS_BASE
    assert protocol.target_path == "/v23.0/act_77/advideos" and hook.chunk_size() == 8 * MiB
    assert protocol.capabilities.server_windows and not protocol.capabilities.parallel_segments
    assert protocol.proof == hmac.new(b"s3cret", b"tok", hashlib.sha256).hexdigest()
    assert set(CONN_FIELDS) >= {"target", "graph_version", "app_secret", "chunk_size", "timeout"}
    assert "login" in UI_FIELD_BEHAVIOUR["hidden-fields"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"extra": {"target": "page:1"}}, "access token"),
    ({"password": "t", "extra": {"target": "1234"}}, "page:<page-id>"),
    ({"password": "t", "extra": {"target": "page:1", "graph_version": "23"}}, "v23.0"),
    ({"password": "t", "host": "http://graph.example.com", "extra": {"target": "page:1"}}, "allow_insecure_http"),
])
def test_connection_errors(set_connection, fields, message):
    set_connection("fb_bad", conn_type="chunkup_facebook", **fields)
    with pytest.raises(ConfigurationError, match=message):
        FacebookVideoHook("fb_bad").get_conn()


@pytest.mark.parametrize("target", ["page:1234", "act_5678"])
def test_upload_follows_the_servers_windows_byte_exact(facebook_connection, media_file, emulator, target):
    facebook_connection(target=target, chunk_size=MiB)
    emulator.config.meta.window_bytes = 256 * KiB
    emulator.config.meta.window_variation = 0.5
    emulator.config.meta.processing_secs = 0.2
    path = media_file(3 * MiB + 5, "launch.mp4")
    hook = FacebookVideoHook()
    result = hook.upload(str(path), options={"title": "Launch", "description": "d", "published": False})
    got = video(emulator, result.media_id)
    assert got["sha256"] == sha256(path) == result.sha256
    assert got["kind"] == ("page" if target.startswith("page") else "advideo")
    assert got["title"] == "Launch" and got["description"] == "d" and got["published"] == "false"
    assert got["finished"] and result.size == 3 * MiB + 5
    status = hook.status(result.media_id)
    while not status.done:  # the emulator's processing clock: a fraction of a second
        assert status.state in ("pending", "in_progress")
        status = hook.status(result.media_id)
    assert status.state == "succeeded"


def test_wrong_offsets_and_transient_errors_are_followed(facebook_connection, media_file, emulator):
    facebook_connection(chunk_size=MiB, retry_backoff_initial=0.01, retry_backoff_max=0.02)
    emulator.config.meta.window_bytes = 512 * KiB
    path = media_file(2 * MiB)
    answers = {"answers": ["transient", "wrong_offset", "partial", "wrong_offset"]}
    httpx.post(f"{emulator.url}/_emulator/meta/transfer-faults", json=answers).raise_for_status()
    result = FacebookVideoHook().upload(str(path))
    assert video(emulator, result.media_id)["sha256"] == sha256(path)


def test_resume_after_a_kill_sends_only_what_the_server_lacked(facebook_connection, media_file, emulator):
    """A transfer that fails (one attempt allowed) leaves the checkpoint at Graph's last window; a new try sends
    the rest only."""
    facebook_connection(chunk_size=MiB, retry_max_attempts=1)
    emulator.config.meta.window_bytes = 512 * KiB
    path = media_file(2 * MiB + 100)
    checkpoint = Checkpoint(MemoryStore())
    rule = {"match": r"POST /v23.0/1234/videos transfer", "action": "drop", "when": "mid_body", "times": 1}

    def cut_after_two_windows(done: int, total: int) -> None:  # the third transfer breaks mid-body
        if done == 1 * MiB:
            httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()

    with pytest.raises(RetryExhausted):
        FacebookVideoHook().upload(str(path), checkpoint=checkpoint, progress=cut_after_two_windows)
    held = checkpoint.session()
    assert held is not None and held.committed_bytes == 1 * MiB
    first = video(emulator, held.media_id)
    assert first["bytes"] == 1 * MiB
    result = FacebookVideoHook().upload(str(path), checkpoint=checkpoint)
    got = video(emulator, result.media_id)
    assert result.media_id == held.media_id and got["sha256"] == sha256(path) == result.sha256
    assert got["transfers"] - first["transfers"] == 3  # 512 KiB, 512 KiB, 100 bytes: nothing sent again


def test_a_lost_session_is_expired(facebook_connection, media_file, emulator):
    facebook_connection(chunk_size=MiB)
    emulator.config.meta.window_bytes = 512 * KiB
    httpx.post(f"{emulator.url}/_emulator/meta/transfer-faults",
               json={"answers": ["session_lost"]}).raise_for_status()
    with pytest.raises(UploadExpired, match=r"1363030.*restart_expired"):
        FacebookVideoHook().upload(str(media_file(2 * MiB)))


def test_wrong_token_fails_without_retry(facebook_connection, media_file):
    facebook_connection(password="not-the-token")
    with pytest.raises(AuthenticationFailed, match="190"):
        FacebookVideoHook().upload(str(media_file(2 * KiB)))


def test_test_connection(facebook_connection):
    facebook_connection(app_secret="app-s3cret")
    ok, message = FacebookVideoHook().test_connection()
    assert ok, message
    facebook_connection(password="wrong-token")
    ok, message = FacebookVideoHook().test_connection()
    assert not ok and "wrong-token" not in message and "190" in message


def test_steps_as_separate_tasks(facebook_connection, media_file, emulator):
    """init, append and finalize in three tasks, the session handed over as XCom would (a dict)."""
    facebook_connection(chunk_size=MiB)
    emulator.config.meta.window_bytes = 300 * KiB
    path = media_file(MiB + 7, "talk.mp4")
    session = FacebookVideoHook().init(str(path), options={"title": "Talk"})
    assert session.plan_kind == "windows" and session.remote["end_offset"] == str(300 * KiB)
    session = FacebookVideoHook().append(session.to_dict())
    assert session.committed_bytes == MiB + 7
    result = FacebookVideoHook().finalize(session.to_dict())
    got = video(emulator, result.media_id)
    assert got["sha256"] == sha256(path) and got["title"] == "Talk" and got["windows_served"] == 4


def test_restart_expired_sends_the_file_again_to_a_new_session(facebook_connection, media_file, emulator):
    facebook_connection(chunk_size=MiB, restart_expired=True)
    emulator.config.meta.window_bytes = 512 * KiB
    path = media_file(MiB)
    checkpoint = Checkpoint(MemoryStore())
    httpx.post(f"{emulator.url}/_emulator/meta/transfer-faults",
               json={"answers": ["session_lost"]}).raise_for_status()
    result = FacebookVideoHook().upload(str(path), checkpoint=checkpoint)
    assert video(emulator, result.media_id)["sha256"] == sha256(path)


def test_processing_failure_is_reported(facebook_connection, media_file, emulator):
    facebook_connection(chunk_size=MiB)
    emulator.config.meta.processing_secs = 0
    emulator.config.meta.processing_failure_rate = 1.0
    result = FacebookVideoHook().upload(str(media_file(4 * KiB)))
    status = FacebookVideoHook().status(result.media_id)
    assert status.failed and "video_status 'error'" in status.error["message"]


@pytest.fixture
def registered():
    """The operators and the sensor find the Facebook hook through the registry."""
    from airflow_provider_chunkup.hooks import registry

    assert registry.BY_API["facebook"] is registry.BY_CONN_TYPE["chunkup_facebook"] is FacebookVideoHook


def test_split_operators_upload_byte_exact(registered, facebook_connection, media_file, emulator):
    from airflow_provider_chunkup.operators.upload import (
        ChunkUploadAppendOperator,
        ChunkUploadFinalizeOperator,
        ChunkUploadInitOperator,
    )

    facebook_connection("fb", chunk_size=MiB)
    emulator.config.meta.window_bytes = 400 * KiB
    path = media_file(2 * MiB + 3)
    session = ChunkUploadInitOperator(task_id="init", conn_id="fb", source=str(path),
                                      upload_options={"title": "Ops"}).execute({})
    session = ChunkUploadAppendOperator(task_id="append", session=session).execute({})
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=session).execute({})
    got = video(emulator, result["media_id"])
    assert got["sha256"] == sha256(path) == result["sha256"] and got["title"] == "Ops"


@pytest.mark.parametrize(("failure_rate", "outcome"), [(0.0, "succeeded"), (1.0, "failed")])
def test_the_sensor_reads_facebooks_states(registered, facebook_connection, media_file, emulator, failure_rate,
                                           outcome):
    from airflow.sdk.exceptions import AirflowFailException

    from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
    from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

    facebook_connection("fb")
    emulator.config.meta.processing_secs = 0.0
    emulator.config.meta.processing_failure_rate = failure_rate
    uploaded = ChunkedUploadOperator(task_id="upload", conn_id="fb", source=str(media_file(8 * KiB))).execute({})
    assert uploaded["api"] == "facebook"
    uploaded["processing"] = {"state": "in_progress"}  # as finalize saw it: the sensor must ask Graph
    sensor = MediaProcessingSensor(task_id="wait", upload=uploaded, poke_interval=0.1, timeout=30)
    if outcome == "succeeded":
        assert sensor.execute({})["state"] == "succeeded"
    else:
        with pytest.raises(AirflowFailException, match="video_status 'error'"):
            sensor.execute({})


@pytest.mark.parametrize("attempts", [1, 3], ids=["resumed-by-a-new-try", "retried-in-the-task"])
def test_an_answer_lost_after_graph_stored_the_window(facebook_connection, media_file, emulator, attempts):
    """Graph kept the window but its answer was lost: sending that window again draws 1363037 naming the next
    one, which is followed; nothing is stored twice."""
    facebook_connection(chunk_size=MiB, retry_max_attempts=attempts, retry_backoff_initial=0.01,
                        retry_backoff_max=0.02)
    emulator.config.meta.window_bytes = 512 * KiB
    path = media_file(2 * MiB)
    checkpoint = Checkpoint(MemoryStore())
    rule = {"match": r"POST /v23.0/1234/videos transfer", "action": "drop", "when": "after", "times": 1}

    def lose_the_third_answer(done: int, total: int) -> None:
        if done == 1 * MiB:
            httpx.post(f"{emulator.url}/_emulator/faults", json=rule).raise_for_status()

    if attempts == 1:
        with pytest.raises(RetryExhausted):
            FacebookVideoHook().upload(str(path), checkpoint=checkpoint, progress=lose_the_third_answer)
        assert checkpoint.session().committed_bytes == 1 * MiB
        result = FacebookVideoHook().upload(str(path), checkpoint=checkpoint)
    else:
        result = FacebookVideoHook().upload(str(path), checkpoint=checkpoint, progress=lose_the_third_answer)
    got = video(emulator, result.media_id)
    assert got["sha256"] == sha256(path) == result.sha256 and got["bytes"] == 2 * MiB
    stats = httpx.get(f"{emulator.url}/_emulator/stats").json()
    assert stats["meta_wrong_offsets"] == 1


def sparse(tmp_path, size: int, name: str = "big.mp4"):
    """A file of ``size`` bytes that takes no disk space: for size checks that must not read it."""
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


@pytest.mark.parametrize(("conn", "size", "options", "message"), [
    ({"password": None}, 2048, None, r"Facebook needs a Page \(or user\) access token: set it as the connection's "
                                     r"password"),
    ({"extra": {"target": "1234"}}, 2048, None, r"The Facebook target must be 'page:<page-id>' .* got '1234'"),
    ({}, 1000, None, r"Facebook takes videos of at least 1024 bytes; this file is 1000 bytes"),
    ({}, 10 * 1024 * MiB + 1, None, r"at most 10737418240 bytes \(10 GB\); this file is 10737418241 bytes"),
    ({}, 2048, {"title": "t" * 256}, r"The Facebook video title must be text of at most 255 characters; got 256"),
    ({}, 2048, {"published": "yes"}, r"upload_options 'published' must be true or false, got 'yes'"),
    ({}, 2048, {"caption": "c"}, r"Facebook upload_options take title, description, published, not caption"),
], ids=["no-token", "bad-target", "below-1-kb", "above-10-gb", "long-title", "published-text", "unknown-option"])
def test_bad_input_through_the_operator_fails_before_any_request(registered, emulator, set_connection, tmp_path,
                                                                 conn, size, options, message):
    """What the shared bad-input table will list: refused once, not retried, no request sent."""
    from airflow_provider_chunkup.operators.resume import UploadFailedForGood
    from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator

    fields = {"conn_type": "chunkup_facebook", "host": emulator.url, "password": TOKEN,
              "extra": {"target": "page:1234"}, **conn}
    set_connection("fb_bad", **{k: v for k, v in fields.items() if v is not None})
    path = sparse(tmp_path, size)
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()
    with pytest.raises(UploadFailedForGood, match=message) as raised:
        ChunkedUploadOperator(task_id="upload", conn_id="fb_bad", source=str(path),
                              upload_options=options).execute({})
    assert isinstance(raised.value.__cause__, ConfigurationError) and "not retried" in str(raised.value)
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["total_requests"] == 0


def test_a_windowed_upload_is_not_split_over_tasks(registered, facebook_connection, media_file, emulator):
    from airflow_provider_chunkup.operators.resume import UploadFailedForGood
    from airflow_provider_chunkup.operators.upload import ChunkUploadAppendOperator, ChunkUploadInitOperator

    facebook_connection("fb", chunk_size=MiB)
    session = ChunkUploadInitOperator(task_id="init", conn_id="fb", source=str(media_file(2 * MiB))).execute({})
    with pytest.raises(UploadFailedForGood, match=r"Facebook dictates each window of upload .*one task"):
        ChunkUploadAppendOperator(task_id="append", session=session, segments="0:1").execute({})
    assert video(emulator, session["media_id"])["bytes"] == 0
