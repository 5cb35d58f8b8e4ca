"""Google's resumable protocol on the session URIs of both front doors (YouTube, GCS): what the notes list."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable

import httpx
import pytest

from airflow_provider_chunkup.emulators.core.fault_specs import chunk_match
from airflow_provider_chunkup.emulators.gcs import GcsEmulator
from airflow_provider_chunkup.emulators.youtube import YouTubeEmulator

from .helpers import (
    ALIGN,
    GCS_CONTROL,
    YT_CONTROL,
    gcs_session,
    gcs_start,
    md5_b64,
    persisted,
    put,
    query,
    session_info,
    sha256,
    upload_all,
    upload_id,
    yt_session,
)  # fmt: skip

DOORS = {
    "youtube": (yt_session, YT_CONTROL, 201, "/_emulator/youtube/videos"),
    "gcs": (gcs_session, GCS_CONTROL, 200, "/_emulator/gcs/objects"),
}


@pytest.fixture(params=sorted(DOORS))
def door(request: pytest.FixtureRequest) -> tuple[Callable[..., str], str, int, str]:
    return DOORS[request.param]


def test_a_status_query_before_any_byte_is_308_without_range(google, door):
    start, control, _, _ = door
    url = start(google, total=ALIGN * 2)
    answer = query(google, url, ALIGN * 2)
    assert answer.status_code == 308 and "Range" not in answer.headers
    assert answer.headers["X-GUploader-UploadID"] == upload_id(url)
    assert query(google, url).status_code == 308  # bytes */*
    assert session_info(google, control, url)["status_queries"] == 2


def test_chunks_308_with_cumulative_range_then_completion_and_later_queries(google, door):
    start, control, done, _ = door
    data = os.urandom(ALIGN * 2 + 1000)
    url = start(google, total=len(data))
    first = put(google, url, data[:ALIGN], 0, len(data))
    assert persisted(first) == ALIGN and first.headers["Range"] == f"bytes=0-{ALIGN - 1}"
    assert persisted(put(google, url, data[ALIGN:2 * ALIGN], ALIGN, len(data))) == 2 * ALIGN
    assert persisted(query(google, url)) == 2 * ALIGN
    final = put(google, url, data[2 * ALIGN:], 2 * ALIGN, len(data))
    assert final.status_code == done, final.text
    resource = final.json()
    # The lost final answer is recovered by a status query (either form), or by re-sending a chunk.
    assert query(google, url, len(data)).json() == resource and query(google, url).status_code == done
    assert put(google, url, data[:ALIGN], 0, len(data)).json() == resource
    info = session_info(google, control, url)
    assert info["state"] == "complete" and info["sha256"] == sha256(data) and info["persisted"] == len(data)


def test_a_misaligned_middle_chunk_keeps_its_aligned_prefix(google, door):
    start, control, _, _ = door
    data = os.urandom(ALIGN * 3)
    url = start(google, total=len(data))
    answer = put(google, url, data[:ALIGN + 5000], 0, len(data))
    assert persisted(answer) == ALIGN
    # Less than 256 KiB new: nothing of it kept, the Range stays.
    assert persisted(put(google, url, data[ALIGN:ALIGN + 1000], ALIGN, len(data))) == ALIGN
    assert session_info(google, control, url)["dropped_bytes"] == 6000
    assert upload_all(google, url, data, ALIGN + 5000).status_code in (200, 201)
    assert session_info(google, control, url)["sha256"] == sha256(data)


def test_persist_partial_off_keeps_a_misaligned_chunk_whole(google, emulator):
    emulator.config.gcs.persist_partial = False
    data = os.urandom(ALIGN + 7000)
    url = gcs_session(google, total=len(data))
    assert persisted(put(google, url, data[:5000], 0, len(data))) == 5000
    assert put(google, url, data[5000:], 5000, len(data)).status_code == 200
    assert session_info(google, GCS_CONTROL, url)["sha256"] == sha256(data)


def test_resent_bytes_are_ignored_and_the_upload_stays_byte_exact(google, door):
    start, control, done, _ = door
    data = os.urandom(ALIGN * 3)
    url = start(google, total=len(data))
    assert persisted(put(google, url, data[:2 * ALIGN], 0, len(data))) == 2 * ALIGN
    # The client re-sends from 0 (it did not see the answer): the bytes the session has are skipped.
    again = put(google, url, data[ALIGN:], ALIGN, len(data))
    assert again.status_code == done
    info = session_info(google, control, url)
    assert info["ignored_bytes"] == ALIGN and info["sha256"] == sha256(data)


def test_a_start_past_the_persisted_offset_is_a_503_and_keeps_nothing(google, door):
    start, control, _, _ = door
    data = os.urandom(ALIGN * 3)
    url = start(google, total=len(data))
    put(google, url, data[:ALIGN], 0, len(data))
    gap = put(google, url, data[2 * ALIGN:], 2 * ALIGN, len(data))
    assert gap.status_code == 503 and gap.headers["content-type"].startswith("text/plain")
    assert gap.text == (f"Invalid request. According to the Content-Range header, the upload offset is {2 * ALIGN} "
                        f"byte(s), which exceeds already uploaded size of {ALIGN} byte(s).")  # fmt: skip
    assert persisted(query(google, url)) == ALIGN
    assert session_info(google, control, url)["gaps"] == 1


def test_unknown_size_chunks_then_the_total_in_a_status_query(google, door):
    start, control, done, _ = door
    data = os.urandom(ALIGN * 2)
    url = start(google)
    assert persisted(put(google, url, data[:ALIGN], 0, "*")) == ALIGN
    assert persisted(put(google, url, data[ALIGN:], ALIGN, "*")) == 2 * ALIGN
    final = query(google, url, len(data))
    assert final.status_code == done
    assert session_info(google, control, url)["sha256"] == sha256(data)


def test_unknown_size_finished_by_a_last_chunk_carrying_the_total(google):
    data = os.urandom(ALIGN + 10)
    url = gcs_session(google)
    assert persisted(put(google, url, data[:ALIGN], 0, "*")) == ALIGN
    final = put(google, url, data[ALIGN:], ALIGN, len(data))
    assert final.status_code == 200 and final.json()["size"] == str(len(data))


def test_a_put_without_content_range_is_the_whole_upload(google):
    data = os.urandom(5000)
    url = gcs_session(google, total=len(data))
    answer = google.put(url, content=data)
    assert answer.status_code == 200 and answer.json()["size"] == "5000"


def test_an_empty_upload_finishes_with_bytes_star_slash_zero(google):
    url = gcs_session(google, total=0)
    answer = query(google, url, 0)
    assert answer.status_code == 200 and answer.json()["size"] == "0"


@pytest.mark.parametrize(
    ("content_range", "body", "message"),
    [
        ("bytes 0-9", b"x" * 10, "Failed to parse Content-Range"),
        ("bytes 9-0/100", b"x" * 10, "the end is before the start"),
        ("bytes 0-9/50", b"x" * 10, "differs from the upload's size 100"),
        ("bytes 0-9/5", b"x" * 10, "differs from the upload's size"),
        ("bytes 0-9/100", b"x" * 8, "The body has 8 byte(s) where Content-Range announces 10"),
        ("bytes 0-9/100", b"x" * 12, "The body has more byte(s) where Content-Range announces 10"),
        ("bytes */100", b"x", "A status query ('bytes */...') must have an empty body"),
    ],
)  # fmt: skip
def test_malformed_chunks_are_400_and_keep_nothing(google, content_range, body, message):
    url = gcs_session(google, total=100)
    answer = google.put(url, content=body, headers={"Content-Range": content_range})
    assert answer.status_code == 400 and message in answer.text
    assert session_info(google, GCS_CONTROL, url)["persisted"] == 0


def test_an_end_past_the_total_and_a_total_below_the_persisted_bytes_are_400(google):
    url = gcs_session(google)
    assert put(google, url, b"x" * 20, 0, 10).status_code == 400
    put(google, url, os.urandom(ALIGN), 0, "*")
    answer = query(google, url, 10)
    assert answer.status_code == 400 and "less than the 262144 byte(s) already uploaded" in answer.text


def test_unknown_expired_and_killed_sessions(google, door, emulator, clock):
    start, control, _, _ = door
    base = start(google, total=10).split("upload_id=")[0]
    unknown = query(google, base + "upload_id=nope")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404
    expired, killed, aged = start(google, total=10), start(google, total=10), start(google, total=10)
    google.post(f"{control}/sessions/{upload_id(expired)}/expire").raise_for_status()
    google.post(f"{control}/sessions/{upload_id(killed)}/kill").raise_for_status()
    assert query(google, expired).status_code == 404
    gone = put(google, killed, b"x" * 10, 0, 10)
    assert gone.status_code == 410 and "killed" in gone.json()["error"]["message"]
    assert session_info(google, control, killed)["state"] == "dead"
    section = getattr(emulator.config, "youtube" if control == YT_CONTROL else "gcs")
    section.session_lifetime_secs = 60
    assert query(google, aged).status_code == 308
    clock.advance(61)
    assert query(google, aged).status_code == 404
    assert session_info(google, control, aged)["state"] == "expired"
    assert google.get(f"{control}/sessions/nope").status_code == 404


def test_gcs_delete_cancels_with_499_then_404(google):
    url = gcs_session(google, total=ALIGN * 2)
    put(google, url, os.urandom(ALIGN), 0, ALIGN * 2)
    cancelled = google.delete(url)
    assert cancelled.status_code == 499
    assert google.delete(url).status_code == 404 and query(google, url).status_code == 404
    assert session_info(google, GCS_CONTROL, url)["state"] == "cancelled"


def test_youtube_sessions_cannot_be_cancelled(google):
    url = yt_session(google, total=10)
    assert google.delete(url).status_code == 405
    assert query(google, url).status_code == 308


def test_no_308_header_turns_the_308_into_200_with_the_override(google, door):
    start, _, _, _ = door
    data = os.urandom(ALIGN * 2)
    url = start(google, total=len(data))
    answer = put(google, url, data[:ALIGN], 0, len(data), headers={"X-GUploader-No-308": "yes"})
    assert answer.status_code == 200 and answer.headers["X-HTTP-Status-Code-Override"] == "308"
    assert answer.headers["Range"] == f"bytes=0-{ALIGN - 1}"


def test_no_range_rate_answers_308_without_range_but_keeps_the_bytes(google, emulator, anon):
    emulator.config.gcs.no_range_rate = 1.0
    data = os.urandom(ALIGN * 2)
    url = gcs_session(google, total=len(data))
    answer = put(google, url, data[:ALIGN], 0, len(data))
    assert answer.status_code == 308 and "Range" not in answer.headers
    assert persisted(query(google, url)) == ALIGN  # a status query tells the truth
    assert anon.get("/_emulator/faults").json()["injected"]["gcs_no_range"] == 1


def test_short_persist_rate_keeps_the_aligned_half_of_a_chunk(google, emulator, anon):
    emulator.config.youtube.short_persist_rate = 1.0
    data = os.urandom(ALIGN * 5)
    url = yt_session(google, total=len(data))
    assert persisted(put(google, url, data[:4 * ALIGN], 0, len(data))) == 2 * ALIGN
    emulator.config.youtube.short_persist_rate = 0.0
    assert upload_all(google, url, data, 4 * ALIGN).status_code == 201
    assert session_info(google, YT_CONTROL, url)["sha256"] == sha256(data)
    assert anon.get("/_emulator/faults").json()["injected"]["youtube_short_persist"] == 1


def open_chunk(url: httpx.URL, data: bytes, total: int) -> socket.socket:
    """A PUT of a whole ``total``-byte upload on a raw socket, of which only ``data`` is sent so far."""
    sock = socket.create_connection((url.host, url.port))
    head = (f"PUT {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
            f"Content-Range: bytes 0-{total - 1}/{total}\r\nContent-Length: {total}\r\n\r\n")  # fmt: skip
    sock.sendall(head.encode() + data)
    return sock


def wait_for_session(google: httpx.Client, url: str, done: Callable[[dict], bool]) -> dict:
    """The session's inspection once ``done`` holds: each look is a round trip that lets the server run on."""
    for _ in range(500):
        info = session_info(google, GCS_CONTROL, url)
        if done(info):
            return info
    raise AssertionError(f"the session never got there: {info}")


def test_a_body_that_breaks_off_keeps_the_aligned_prefix_of_what_arrived(google):
    total = ALIGN * 4
    data = os.urandom(total)
    url = gcs_session(google, total=total)
    open_chunk(httpx.URL(url), data[:ALIGN + 1000], total).close()
    info = wait_for_session(google, url, lambda s: not s["writing"] and s["persisted"] == ALIGN)
    assert info["dropped_bytes"] == 1000
    assert persisted(query(google, url)) == ALIGN
    assert upload_all(google, url, data, ALIGN).status_code == 200
    assert session_info(google, GCS_CONTROL, url)["sha256"] == sha256(data)


def test_a_second_chunk_while_one_is_writing_is_a_503(google):
    total = ALIGN * 2
    data = os.urandom(total)
    url = gcs_session(google, total=total)
    sock = open_chunk(httpx.URL(url), data[:1000], total)
    try:
        wait_for_session(google, url, lambda s: s["writing"])
        busy = put(google, url, data, 0, total)
        assert busy.status_code == 503 and "Another request is writing" in busy.text
        assert query(google, url).status_code == 308  # a status query still answers
    finally:
        sock.close()
    wait_for_session(google, url, lambda s: not s["writing"])
    assert upload_all(google, url, data, ALIGN).status_code == 200


def test_a_chunk_dropped_mid_body_keeps_nothing_and_the_client_goes_on(google, anon):
    anon.post("/_emulator/faults", json={"match": r"^PUT /upload/storage/.*upload_id=", "action": "drop",
                                         "when": "mid_body"}).raise_for_status()  # fmt: skip
    data = os.urandom(ALIGN * 2)
    url = gcs_session(google, total=len(data))
    with pytest.raises(httpx.TransportError):
        put(google, url, data[:ALIGN], 0, len(data))
    assert persisted(query(google, url)) == 0
    assert upload_all(google, url, data, ALIGN).status_code == 200


def test_an_answer_lost_after_the_chunk_was_kept_is_recovered_by_a_status_query(google, anon):
    anon.post("/_emulator/faults", json={"match": r"^PUT /upload/youtube/.*upload_id=", "status": 502,
                                         "when": "after"}).raise_for_status()  # fmt: skip
    data = os.urandom(ALIGN)
    url = yt_session(google, total=len(data))
    assert put(google, url, data, 0, len(data)).status_code == 502
    recovered = query(google, url, len(data))
    assert recovered.status_code == 201 and len(recovered.json()["id"]) == 11


def test_chunk_targets_are_the_session_requests_only(google, anon, emulator):
    targets = YouTubeEmulator.chunk_targets(emulator.config.youtube) + GcsEmulator.chunk_targets(emulator.config.gcs)
    anon.post("/_emulator/faults", json={"match": chunk_match(targets), "status": 503, "times": 0}).raise_for_status()
    data = os.urandom(ALIGN)
    for start in (gcs_session, yt_session):  # initiation carries no bytes: never faulted
        url = start(google, total=len(data))
        assert put(google, url, data, 0, len(data)).status_code == 503
        posted = google.post(url, content=data, headers={"Content-Range": f"bytes 0-{ALIGN - 1}/{ALIGN}"})
        assert posted.status_code == 503
        assert session_info(google, YT_CONTROL if "youtube" in url else GCS_CONTROL, url)["persisted"] == 0
    assert anon.get("/_emulator/faults").json()["rules"][0]["hits"] == 4


def test_chunks_may_be_posted_to_the_session_uri(google):
    data = os.urandom(ALIGN + 1)
    url = gcs_session(google, total=len(data))
    first = google.post(url, content=data[:ALIGN], headers={"Content-Range": f"bytes 0-{ALIGN - 1}/{len(data)}"})
    assert persisted(first) == ALIGN
    last = google.post(url, content=data[ALIGN:], headers={"Content-Range": f"bytes {ALIGN}-{ALIGN}/{len(data)}"})
    assert last.status_code == 200 and last.json()["md5Hash"] == md5_b64(data)


def test_an_injected_429_reaches_the_session_uri(google, anon):
    anon.post("/_emulator/faults", json={"match": r"^PUT /upload/storage/", "action": "rate_limit",
                                         "retry_after_secs": 2}).raise_for_status()  # fmt: skip
    url = gcs_session(google, total=10)
    assert put(google, url, b"x" * 10, 0, 10).status_code == 429
    assert persisted(query(google, url)) == 0


@pytest.mark.parametrize("path", ["/upload/storage/v1/b/m/o", "/storage/v1/b/m/o/a", "/upload/youtube/v3/videos",
                                  "/youtube/v3/videos", "/token"])  # fmt: skip
def test_the_429_each_front_door_dresses_is_googles(emulator, path):
    api = emulator.app.state.youtube if "storage" not in path else emulator.app.state.gcs
    response = api.rate_limited("PUT", path, 3)
    assert response is not None and response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert json.loads(response.body)["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    other = emulator.app.state.gcs if api is emulator.app.state.youtube else emulator.app.state.youtube
    assert other.rate_limited("PUT", path, 3) is None


def test_an_upload_of_unknown_size_may_not_grow_past_max_size(google, emulator):
    emulator.config.gcs.max_size = ALIGN
    url = gcs_session(google)
    assert persisted(put(google, url, os.urandom(ALIGN), 0, "*")) == ALIGN
    over = put(google, url, b"x", ALIGN, "*")
    assert over.status_code == 400 and "past the upload size limit" in over.text


def test_rate_limit_403_refuses_initiations_and_chunks_and_keeps_nothing(google, emulator, anon):
    data = os.urandom(ALIGN)
    url = gcs_session(google, total=len(data))
    emulator.config.gcs.rate_limit_403_rate = 1.0
    for answer in (gcs_start(google), put(google, url, data, 0, len(data))):
        assert answer.status_code == 403
        error = answer.json()["error"]["errors"][0]
        assert (error["reason"], error["domain"]) == ("rateLimitExceeded", "usageLimits")
    assert query(google, url).status_code == 308  # status queries are not refused
    emulator.config.gcs.rate_limit_403_rate = 0.0
    assert persisted(query(google, url)) == 0 and put(google, url, data, 0, len(data)).status_code == 200
    assert anon.get("/_emulator/faults").json()["injected"]["gcs_rate_limit_403"] == 2
