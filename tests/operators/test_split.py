"""One upload over several append tasks, run directly (no DB) against the emulator: split, range checksums,
finalize with the list of sessions, refusals and merge errors."""

import copy
import hashlib

import httpx
import pytest
from tus_servers import resumable_upload_server, tus_node_server

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.operators.resume import UploadFailedForGood
from airflow_provider_chunkup.operators.split import ChunkUploadSplitOperator
from airflow_provider_chunkup.operators.upload import (
    ChunkUploadAppendOperator,
    ChunkUploadFinalizeOperator,
    ChunkUploadInitOperator,
)
from airflow_provider_chunkup.protocols.chunking import MiB
from airflow_provider_chunkup.protocols.split import SegmentsMissing, verify_range_digests


def stats(emulator) -> dict:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()


def reset_stats(emulator) -> None:
    httpx.post(f"{emulator.url}/_emulator/stats/reset").raise_for_status()


def run_split(session: dict, parts: int | str) -> list[dict]:
    return ChunkUploadSplitOperator(task_id="split", session=session, parts=parts).execute({})


def run_appends(kwargs_list: list[dict]) -> list[dict]:
    """What the mapped append tasks return, one per range (as expand_kwargs would run them)."""
    return [ChunkUploadAppendOperator(task_id="append", max_in_flight=2, **kwargs).execute({})
            for kwargs in kwargs_list]


def test_x_upload_split_over_four_appends_is_byte_exact_with_range_checksums(x_connection, received, media_file):
    x_connection(chunk_size=1 * MiB)
    path = media_file(10 * MiB + 7)  # 11 segments
    session = ChunkUploadInitOperator(task_id="init", source=str(path)).execute({})
    split = run_split(session, "4")  # a template renders parts as text
    assert [k["segments"] for k in split] == ["0:3", "3:6", "6:9", "9:11"]
    assert all(k["session"] == session for k in split)
    appended = run_appends(split)
    assert all(not a["digests"] for a in appended)  # no task read the whole file
    finalize = ChunkUploadFinalizeOperator(task_id="finalize", session=appended)
    result = finalize.execute({})
    whole = hashlib.sha256(path.read_bytes()).hexdigest()
    assert received(result["media_id"])["sha256"] == whole
    assert result["sha256"] is None
    data = path.read_bytes()
    assert [(r["segments"], r["offset"], r["length"]) for r in result["range_digests"]] == [
        ("0:3", 0, 3 * MiB), ("3:6", 3 * MiB, 3 * MiB), ("6:9", 6 * MiB, 3 * MiB), ("9:11", 9 * MiB, MiB + 7)]
    for r in result["range_digests"]:
        assert r["sha256"] == hashlib.sha256(data[r["offset"]: r["offset"] + r["length"]]).hexdigest()
    assert verify_range_digests(path, result["range_digests"]) == []
    assert finalize.uploaded_media_url.endswith(f"/_emulator/x/media/{result['media_id']}")


def test_apivideo_parts_split_leaves_the_last_part_to_finalize(apivideo_connection, media_file, emulator):
    apivideo_connection(chunk_size=5 * MiB)
    path = media_file(20 * MiB + 3)  # 5 parts; the 5th completes the video
    session = ChunkUploadInitOperator(task_id="create", conn_id="chunkup_apivideo_default",
                                      source=str(path)).execute({})
    split = run_split(session, 3)
    assert [k["segments"] for k in split] == ["0:2", "2:3", "3:4"]
    appended = run_appends(split)
    reset_stats(emulator)
    finalize = ChunkUploadFinalizeOperator(task_id="upload_last_part", session=appended)
    result = finalize.execute({})
    assert stats(emulator)["routes"]["POST /videos/{videoId}/source"]["requests"] == 1  # the last part only
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["sha256"] is None
    assert [r["segments"] for r in result["range_digests"]] == ["0:2", "2:3", "3:4", "4:5"]  # finalize's too
    assert verify_range_digests(path, result["range_digests"]) == []
    assert sum(r["length"] for r in result["range_digests"]) == result["size"]
    assert finalize.uploaded_media_url == f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}"


@pytest.mark.parametrize("api", ["content_range", "apivideo_bytes"])
def test_split_is_refused_where_segments_must_arrive_in_order_without_a_request(
        api, content_range_connection, apivideo_connection, media_file, emulator):
    if api == "content_range":
        content_range_connection()
        conn_id, fix = "chunkup_content_range_default", r"takes chunks strictly in order.*one append task"
        path = media_file(1024 * 1024, name="photo.jpg")
    else:
        apivideo_connection(upload_mode="bytes", chunk_size=5 * MiB)
        conn_id, fix = "chunkup_apivideo_default", r"upload_mode=bytes.*Set upload_mode=part.*one append task"
        path = media_file(11 * MiB)
    session = ChunkUploadInitOperator(task_id="init", conn_id=conn_id, source=str(path)).execute({})
    reset_stats(emulator)
    with pytest.raises(UploadFailedForGood, match=fix) as failure:
        run_split(session, 4)
    assert isinstance(failure.value.__cause__, ConfigurationError)
    assert stats(emulator)["total_requests"] == 0


def test_split_with_bad_parts_is_explained(x_connection, media_file):
    x_connection(chunk_size=1 * MiB)
    session = ChunkUploadInitOperator(task_id="init", source=str(media_file(2 * MiB))).execute({})
    with pytest.raises(UploadFailedForGood, match="parts='many' is not a whole number"):
        run_split(session, "many")
    with pytest.raises(UploadFailedForGood, match="at least 1, got 0"):
        run_split(session, 0)
    assert [k["segments"] for k in run_split(session, 8)] == ["0:1", "1:2"]  # fewer segments than parts


def test_finalize_names_missing_segments_before_finalizing(x_connection, media_file, emulator):
    x_connection(chunk_size=1 * MiB)
    path = media_file(6 * MiB)
    session = ChunkUploadInitOperator(task_id="init", source=str(path)).execute({})
    split = run_split(session, 3)
    appended = run_appends([split[0], split[2]])  # the middle mapped append was skipped
    reset_stats(emulator)
    with pytest.raises(UploadFailedForGood, match=r"lacks segments 2-3 of 6.*failed or was skipped") as failure:
        ChunkUploadFinalizeOperator(task_id="finalize", session=appended).execute({})
    assert isinstance(failure.value.__cause__, SegmentsMissing)
    assert stats(emulator)["total_requests"] == 0  # no finalize request, no abort
    # Sending the missing range and finalizing again completes the same upload.
    appended += run_appends([split[1]])
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=appended).execute({})
    assert result["media_id"] == session["media_id"]


def test_finalize_refuses_sessions_of_two_uploads(x_connection, media_file, emulator):
    x_connection(chunk_size=1 * MiB)
    first = ChunkUploadInitOperator(task_id="a", source=str(media_file(MiB, name="a.mp4"))).execute({})
    second = ChunkUploadInitOperator(task_id="b", source=str(media_file(MiB, name="b.mp4"))).execute({})
    reset_stats(emulator)
    with pytest.raises(UploadFailedForGood, match=r"different uploads.*single init task"):
        ChunkUploadFinalizeOperator(task_id="finalize", session=[first, second]).execute({})
    with pytest.raises(UploadFailedForGood, match="empty list of sessions"):
        ChunkUploadFinalizeOperator(task_id="finalize", session=[]).execute({})
    assert stats(emulator)["total_requests"] == 0


def test_finalize_counts_parts_the_server_holds_when_a_session_does_not_say(apivideo_connection, media_file,
                                                                            emulator):
    apivideo_connection(chunk_size=5 * MiB)
    path = media_file(15 * MiB + 1)  # 4 parts
    session = ChunkUploadInitOperator(task_id="create", conn_id="chunkup_apivideo_default",
                                      source=str(path)).execute({})
    appended = run_appends(run_split(session, 2))
    # A session without its record of stored parts (an older task's XCom): api.video says what it holds.
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=[appended[0], session]).execute({})
    got = httpx.get(f"{emulator.url}/_emulator/apivideo/videos/{result['media_id']}").json()
    assert got["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_append_of_every_segment_keeps_the_whole_file_sha256(x_connection, media_file):
    x_connection(chunk_size=1 * MiB)
    path = media_file(3 * MiB)
    session = ChunkUploadInitOperator(task_id="init", source=str(path)).execute({})
    appended = ChunkUploadAppendOperator(task_id="append", session=session).execute({})
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=[appended]).execute({})
    assert result["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["range_digests"] == []


def test_chunk_size_rendered_from_a_template_is_read_as_a_number(x_connection, media_file, emulator):
    x_connection()
    path = str(media_file(3 * MiB))
    session = ChunkUploadInitOperator(task_id="init", source=path, chunk_size=" 1048576").execute({})
    assert session["chunk_size"] == MiB
    reset_stats(emulator)
    with pytest.raises(UploadFailedForGood, match=r"chunk_size='1.5 MiB' is not a whole number") as failure:
        ChunkUploadInitOperator(task_id="init", source=path, chunk_size="1.5 MiB").execute({})
    assert isinstance(failure.value.__cause__, ConfigurationError)
    assert stats(emulator)["total_requests"] == 0


@pytest.fixture(scope="module")
def tus_resumable(tmp_path_factory):
    with resumable_upload_server(tmp_path_factory.mktemp("tus-resumable")) as server:
        yield server


@pytest.fixture(scope="module")
def tus_node(tmp_path_factory):
    with tus_node_server(tmp_path_factory.mktemp("tus-node")) as server:
        yield server


def test_tus_upload_opened_as_parts_splits_over_three_appends(tus_resumable, set_connection, media_file):
    """A tus upload opened as partial uploads (max_in_flight > 1, a server announcing concatenation): each mapped
    append creates the parts of its range, finalize joins every task's parts into one upload."""
    set_connection("tus_split", conn_type="chunkup_tus", host=tus_resumable.url,
                   extra={"chunk_size": 128 * 1024, "max_in_flight": 2})
    path = media_file(1000 * 1024 + 3)  # 8 segments
    session = ChunkUploadInitOperator(task_id="init", conn_id="tus_split", source=str(path)).execute({})
    assert session["remote"]["parts"] == {}
    split = run_split(session, 3)
    assert [k["segments"] for k in split] == ["0:3", "3:6", "6:8"]
    appended = run_appends([copy.deepcopy(k) for k in split])  # each task reads its own copy of the XCom
    assert [sorted(a["remote"]["parts"]) for a in appended] == [["0", "1", "2"], ["3", "4", "5"], ["6", "7"]]
    result = ChunkUploadFinalizeOperator(task_id="finalize", session=appended).execute({})
    assert tus_resumable.stored(result["details"]["upload_url"]) == path.read_bytes()
    assert verify_range_digests(path, result["range_digests"]) == []
    assert len(tus_resumable.head(result["details"]["upload_url"]).headers["Upload-Concat"].split(" ")) == 8


@pytest.mark.parametrize(("server", "max_in_flight", "because"), [
    ("resumable-upload", 1, r"only as partial uploads .* set max_in_flight > 1 on the connection before init"),
    ("@tus/server", 3, r"does not announce the concatenation extension"),
])
def test_tus_upload_sent_in_order_is_not_split(server, max_in_flight, because, tus_resumable, tus_node,
                                               set_connection, media_file):
    tus = tus_resumable if server == "resumable-upload" else tus_node
    set_connection("tus_whole", conn_type="chunkup_tus", host=tus.url,
                   extra={"chunk_size": 128 * 1024, "max_in_flight": max_in_flight})
    session = ChunkUploadInitOperator(task_id="init", conn_id="tus_whole", source=str(media_file(500 * 1024))
                                      ).execute({})
    with pytest.raises(UploadFailedForGood, match=r"tus upload on connection 'tus_whole' cannot be split over "
                                                    r"parallel append tasks: .*" + because):
        run_split(session, 2)
