"""Operators run directly (no DB) against the emulator; the DAG-level run is in tests/dags."""

import hashlib
import json

import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.upload import (
    ChunkedUploadOperator,
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
    _segments,
)
from airflow_provider_chunkup.protocols.chunking import MiB

SECRETS = ("chunkup-emulator-token", "chunkup-consumer-secret", "chunkup-access-token-secret")


def assert_no_secret(value):
    text = json.dumps(value)
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize("auth", ["oauth2", "oauth1"])
def test_init_append_finalize_as_separate_tasks(x_connection, received, media_file, auth):
    x_connection(auth=auth, chunk_size=1 * MiB)
    path = media_file(5 * MiB + 1)
    session = ChunkUploadInitOperator(task_id="init", source=str(path), media_category="tweet_video").execute({})
    assert session["total_bytes"] == 5 * MiB + 1 and session["chunk_size"] == 1 * MiB
    assert session["media_type"] == "video/mp4"  # guessed from .mp4
    assert_no_secret(session)
    json.dumps(session)  # XCom-safe

    appended = ChunkUploadAppendOperator(task_id="append", session=session, max_in_flight=2).execute({})
    assert appended["digests"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=json.dumps(appended)).execute({})
    assert_no_secret(result)
    assert result["sha256"] == received(result["media_id"])["sha256"]
    assert result["processing"]["state"] == "pending"
    assert len(json.dumps(result)) < 2048  # small XCom


def test_mapped_appends_share_one_upload(x_connection, received, media_file):
    x_connection(chunk_size=1 * MiB)
    path = media_file(4 * MiB)
    session = ChunkUploadInitOperator(task_id="init", source=str(path)).execute({})
    for part in ("0:2", "2:4"):
        ChunkUploadAppendOperator(task_id="append", session=session, segments=part).execute({})
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=session).execute({})
    assert received(result["media_id"])["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_single_task_upload_logs_progress(x_connection, received, media_file, capsys):
    x_connection()
    path = media_file(9 * MiB)
    op = ChunkedUploadOperator(task_id="upload", source=f"file://{path}", media_category="amplify_video",
                               progress_interval=0)
    result = op.execute({})
    assert result["size"] == 9 * MiB
    assert result["sha256"] == received(result["media_id"])["sha256"]
    log = capsys.readouterr().out
    progress = [line for line in log.splitlines() if "MiB/s" in line and "% )" not in line]
    assert any("9.0 MiB of 9.0 MiB (100.0%)" in line and "done" in line for line in progress)
    for secret in SECRETS:
        assert secret not in log


def test_template_fields_render(x_connection):
    op = ChunkUploadInitOperator(task_id="init", source="{{ params.src }}", media_type="{{ params.mt }}")
    assert {"source", "media_type", "media_category", "conn_id", "upload_options"} <= set(op.template_fields)
    assert "session" in ChunkUploadAppendOperator.template_fields
    assert "session" in ChunkUploadFinalizeOperator.template_fields


def test_wrong_connection_type(set_connection, media_file):
    set_connection("not_x", conn_type="http", host="example.com")
    with pytest.raises(UploadFailedForGood, match=r"no chunkup hook serves.*not retried") as e:
        ChunkUploadInitOperator(task_id="init", source=str(media_file(10)), conn_id="not_x").execute({})
    assert isinstance(e.value.__cause__, ConfigurationError)


def test_garbage_session_is_explained(x_connection):
    x_connection()
    with pytest.raises(UploadFailedForGood, match="previous task's output") as e:
        ChunkUploadAppendOperator(task_id="append", session="not a session").execute({})
    assert isinstance(e.value.__cause__, ConfigurationError)
    with pytest.raises(UploadFailedForGood, match="missing media_id"):
        ChunkUploadFinalizeOperator(task_id="finalize", session={"api": "x"}).execute({})


def test_segments_argument_forms():
    assert _segments(None) is None
    assert _segments("3:6") == [3, 4, 5]
    assert _segments("7") == [7]
    assert _segments([1, "2"]) == [1, 2]


class _Try:
    """The ``ti`` of a context: only its try number matters here."""

    def __init__(self, try_number: int) -> None:
        self.try_number = try_number


def test_split_tasks_retried_reuse_their_checkpoints(apivideo_connection, media_file, emulator):
    import httpx

    from airflow_provider_chunkup.protocols.checkpoint import MemoryStore

    apivideo_connection(chunk_size=5 * MiB)
    path = media_file(12 * MiB)
    stores = {"init": MemoryStore(), "append": MemoryStore(), "finalize": MemoryStore()}

    def context(task: str, try_number: int = 1) -> dict:
        return {"task_state_store": stores[task], "ti": _Try(try_number)}

    init = ChunkUploadInitOperator(task_id="init", conn_id="chunkup_apivideo_default", source=str(path))
    session = init.execute(context("init"))
    assert init.execute(context("init", 2)) == session  # a retried init opens no second video
    appended = ChunkUploadAppendOperator(task_id="append", session=session).execute(context("append"))
    finalize = ChunkUploadFinalizeOperator(task_id="finalize", session=appended)
    result = finalize.execute(context("finalize"))
    before = httpx.get(f"{emulator.url}/_emulator/stats").json()["total_requests"]
    assert finalize.execute(context("finalize", 2)) == result  # never finalized twice
    assert httpx.get(f"{emulator.url}/_emulator/stats").json()["total_requests"] == before
    routes = httpx.get(f"{emulator.url}/_emulator/stats").json()["routes"]
    assert routes["POST /videos"]["requests"] == 1


@pytest.mark.parametrize(("status", "try_number", "deleted"), [
    (400, 1, True),    # a rejection: no retry will come, so the video goes now
    (503, 1, False),   # a server failure on the first of three tries: the next try continues the video
    (503, 3, True),    # ... and on the last try, nothing will continue it
])
def test_failing_append_deletes_the_video_only_when_no_try_will_continue_it(
        status, try_number, deleted, apivideo_connection, media_file, emulator, caplog):
    import httpx

    from airflow_provider_chunkup.protocols.checkpoint import MemoryStore

    apivideo_connection(chunk_size=5 * MiB, retry_max_attempts=2, retry_backoff_initial=0.01)
    path = media_file(12 * MiB)
    session = ChunkUploadInitOperator(task_id="init", conn_id="chunkup_apivideo_default",
                                      source=str(path)).execute({})
    httpx.post(f"{emulator.url}/_emulator/faults", json={"match": "/source", "status": status,
                                                         "times": 0}).raise_for_status()
    append = ChunkUploadAppendOperator(task_id="append", session=session, retries=2)
    with pytest.raises(Exception) as failure:
        append.execute({"task_state_store": MemoryStore(), "ti": _Try(try_number)})
    assert isinstance(failure.value, UploadFailedForGood) == (status == 400)
    video = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{session['media_id']}").json()
    assert bool(video.get("deleted")) == deleted
    assert ("Deleted the unfinished api.video upload" in caplog.text) == deleted


def test_a_session_from_xcom_is_never_rendered_as_a_template():
    """expand_kwargs hands mapped appends session dicts that Airflow would render string by string: with native
    rendering, X's media key "7_2128..." would become an int. Sessions stay exactly as the upstream task
    returned them; other fields still render."""
    import datetime

    from airflow.sdk import DAG

    from airflow_provider_chunkup.operators.upload import ChunkUploadAppendOperator, ChunkUploadFinalizeOperator

    session = {"api": "x", "media_id": "2128002024592691200", "media_key": "7_2128002024592691200",
               "total_bytes": 10, "chunk_size": 4, "source": "/videos/{{ weird }}.mp4"}
    with DAG("native", render_template_as_native_obj=True, start_date=datetime.datetime(2026, 1, 1)):
        append = ChunkUploadAppendOperator(task_id="append", session=dict(session), segments="{{ params.range }}")
        finalize = ChunkUploadFinalizeOperator(task_id="finalize", session=[dict(session), dict(session)])
    append.render_template_fields({"params": {"range": "0:2"}}, jinja_env=append.get_template_env())
    assert append.session == session and append.segments == "0:2"
    finalize.render_template_fields({}, jinja_env=finalize.get_template_env())
    assert finalize.session == [session, session]
