"""api.video source uploads against the emulator over real HTTP: part, bytes and single-request
modes, every refusal api.video documents, and delegated upload tokens."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from pathlib import Path

import httpx
import pytest

from ..support import (
    APIVIDEO_MIN_CHUNK,
    apivideo_basic,
    assert_apivideo_error,
    create_video,
    inspect_video,
    random_bytes,
    sha256,
    split,
    upload_chunk,
    upload_parts,
)

MIB = 1024 * 1024
CHUNK = APIVIDEO_MIN_CHUNK


def status(client: httpx.Client, video_id: str) -> dict:
    response = client.get(f"/videos/{video_id}/status")
    assert response.status_code == 200, response.text
    return response.json()


# -- part mode ------------------------------------------------------------------------------------


def test_parts_in_order_complete_with_the_video(av, anon):
    data = random_bytes(3 * CHUNK + 100)
    video_id = create_video(av, title="in order")
    chunks = split(data, CHUNK)
    for number, chunk in enumerate(chunks[:-1], start=1):
        response = upload_chunk(av, video_id, chunk, f"part {number}/4")
        assert response.status_code == 201
        assert response.json() == {"videoId": video_id}
        assert response.headers["X-RateLimit-Limit"] == "100"
    last = upload_chunk(av, video_id, chunks[-1], "part 4/4")
    assert last.status_code == 201
    video = last.json()
    assert video["videoId"] == video_id and video["title"] == "in order"
    assert video["assets"]["hls"].endswith(f"/vod/{video_id}/hls/manifest.m3u8")
    info = inspect_video(anon, video_id)
    assert info["complete"] is True and info["mode"] == "part"
    assert info["size"] == info["total_bytes"] == info["received_bytes"] == len(data)
    assert info["sha256"] == sha256(data)
    assert info["parts"] == [1, 2, 3, 4] and info["total_parts"] == 4
    assert Path(info["path"]).read_bytes() == data
    ingest = status(av, video_id)["ingest"]
    assert ingest["status"] == "uploaded" and ingest["filesize"] == len(data)
    assert ingest["receivedParts"] == {"parts": [1, 2, 3, 4], "total": 4}
    assert ingest["receivedBytes"] == [
        {"from": 0, "to": CHUNK - 1, "total": len(data)},
        {"from": CHUNK, "to": 2 * CHUNK - 1, "total": len(data)},
        {"from": 2 * CHUNK, "to": 3 * CHUNK - 1, "total": len(data)},
        {"from": 3 * CHUNK, "to": len(data) - 1, "total": len(data)},
    ]
    # The part files are gone once the source is assembled.
    assert not list(Path(info["path"]).parent.glob(f"{video_id}.segments/*"))


def test_parts_out_of_order_with_unknown_total(av, anon):
    """``part N/*`` until the last part names the count; the status shows what arrived."""
    data = random_bytes(4 * CHUNK + 10)
    chunks = split(data, CHUNK)
    video_id = create_video(av)
    assert upload_chunk(av, video_id, chunks[2], "part 3/*").json() == {"videoId": video_id}
    ingest = status(av, video_id)["ingest"]
    assert ingest == {
        "status": "uploading",
        "filesize": None,
        "receivedBytes": [],  # part 3's offset is not known before parts 1 and 2
        "receivedParts": {"parts": [3], "total": None},
    }
    upload_chunk(av, video_id, chunks[4], "part 5/5")
    upload_chunk(av, video_id, chunks[0], "part 1/*")
    ingest = status(av, video_id)["ingest"]
    assert ingest["receivedParts"] == {"parts": [1, 3, 5], "total": 5}
    assert ingest["receivedBytes"] == [{"from": 0, "to": CHUNK - 1}]  # total unknown until complete: left out
    assert upload_chunk(av, video_id, chunks[3], "part 4/5").json() == {"videoId": video_id}
    final = upload_chunk(av, video_id, chunks[1], "part 2/*")
    assert "assets" in final.json()
    assert inspect_video(anon, video_id)["sha256"] == sha256(data)


async def test_parts_concurrently_four_in_flight(emulator, anon):
    emulator.config.apivideo.min_chunk_bytes = 64 * 1024
    data = random_bytes(12 * 256 * 1024 + 777)
    chunks = split(data, 256 * 1024)
    order = list(range(1, len(chunks) + 1))
    random.shuffle(order)
    in_flight = asyncio.Semaphore(4)
    peak = current = 0
    async with httpx.AsyncClient(base_url=emulator.url, headers=apivideo_basic(), timeout=30) as client:
        video_id = (await client.post("/videos", json={"title": "parallel"})).json()["videoId"]

        async def send(number: int) -> httpx.Response:
            nonlocal peak, current
            async with in_flight:
                current += 1
                peak = max(peak, current)
                try:
                    return await client.post(
                        f"/videos/{video_id}/source",
                        files={"file": ("clip.mp4", chunks[number - 1])},
                        headers={"Content-Range": f"part {number}/{len(chunks)}"},
                    )
                finally:
                    current -= 1

        responses = await asyncio.gather(*(send(n) for n in order))
    assert peak == 4
    assert {r.status_code for r in responses} == {201}
    assert sum("assets" in r.json() for r in responses) == 1  # exactly one request completed it
    info = inspect_video(anon, video_id)
    assert info["sha256"] == sha256(data) and info["size"] == len(data)


async def test_the_same_part_twice_at_once_is_accepted_once(emulator, anon):
    emulator.config.apivideo.min_chunk_bytes = CHUNK
    data = random_bytes(64 * 1024)
    async with httpx.AsyncClient(base_url=emulator.url, headers=apivideo_basic(), timeout=30) as client:
        video_id = (await client.post("/videos", json={"title": "race"})).json()["videoId"]
        send = [
            client.post(
                f"/videos/{video_id}/source", files={"file": ("a", data)}, headers={"Content-Range": "part 1/2"}
            )
            for _ in range(2)
        ]
        responses = await asyncio.gather(*send)
    assert sorted(r.status_code for r in responses) == [201, 400]
    refused = next(r for r in responses if r.status_code == 400)
    assert_apivideo_error(refused, 400, "video-content-range-by-part-part-already-sent", "Content-Range")
    assert inspect_video(anon, video_id)["received_bytes"] == len(data)


def test_default_minimum_is_5_mib(emulator, anon):
    with httpx.Client(base_url=emulator.url, headers=apivideo_basic(), timeout=30) as client:
        video_id = create_video(client)
        small = upload_chunk(client, video_id, b"x" * (5 * MIB - 1), "part 1/2")
        body = assert_apivideo_error(small, 400, "video-content-range-by-part-uploaded-file-too-small", "file")
        assert str(5 * MIB) in body["detail"]
        data = random_bytes(5 * MIB + 1)
        assert upload_parts(client, video_id, data, 5 * MIB).status_code == 201
    assert inspect_video(anon, video_id)["sha256"] == sha256(data)


# -- bytes and single-request modes ---------------------------------------------------------------


def test_byte_ranges_in_any_order(av, anon):
    data = random_bytes(3 * CHUNK + 5)
    total = len(data)
    video_id = create_video(av)
    ranges = [(CHUNK, 2 * CHUNK - 1), (0, CHUNK - 1), (2 * CHUNK, total - 1)]
    for start, end in ranges[:2]:
        response = upload_chunk(av, video_id, data[start : end + 1], f"bytes {start}-{end}/{total}")
        assert response.json() == {"videoId": video_id}
    ingest = status(av, video_id)["ingest"]
    assert ingest["filesize"] == total and "receivedParts" not in ingest
    assert ingest["receivedBytes"] == [
        {"from": 0, "to": CHUNK - 1, "total": total},
        {"from": CHUNK, "to": 2 * CHUNK - 1, "total": total},
    ]
    start, end = ranges[2]
    final = upload_chunk(av, video_id, data[start:], f"bytes {start}-{end}/{total}")
    assert final.status_code == 201 and final.json()["videoId"] == video_id and "assets" in final.json()
    info = inspect_video(anon, video_id)
    assert info["mode"] == "bytes" and info["sha256"] == sha256(data)
    assert info["ranges"] == [[0, CHUNK - 1], [CHUNK, 2 * CHUNK - 1], [2 * CHUNK, total - 1]]


def test_single_request_upload(av, anon):
    data = random_bytes(1000)  # below the chunk minimum: the whole file in one request is fine
    video_id = create_video(av, title="single")
    response = upload_chunk(av, video_id, data)
    assert response.status_code == 201
    assert response.json()["title"] == "single" and "assets" in response.json()
    info = inspect_video(anon, video_id)
    assert info["mode"] == "single" and info["sha256"] == sha256(data) and info["complete"]
    assert status(av, video_id)["ingest"] == {
        "status": "uploaded",
        "filesize": 1000,
        "receivedBytes": [{"from": 0, "to": 999, "total": 1000}],
    }


def test_any_field_name_with_a_filename_is_the_file(av, anon):
    """api.video's Node client names the part after the file, not ``file``."""
    video_id = create_video(av)
    response = av.post(f"/videos/{video_id}/source", files={"launch.mp4": ("launch.mp4", b"abc")})
    assert response.status_code == 201, response.text
    assert inspect_video(anon, video_id)["size"] == 3


# -- refusals -------------------------------------------------------------------------------------

PART_REFUSALS = [
    # (already sent, then: content range, size, expected type)
    ([], "part 0/3", CHUNK, "video-content-range-by-part-part-zero"),
    ([], "part 1/0", CHUNK, "video-content-range-by-part-total-parts-zero"),
    ([], "part 1/10001", CHUNK, "video-content-range-by-part-total-parts-too-high"),
    ([], "part 10001/*", CHUNK, "video-content-range-by-part-part-too-high-allowed"),
    ([], "part 4/3", CHUNK, "video-content-range-by-part-part-too-high-total"),
    (["part 1/3"], "part 4/*", CHUNK, "video-content-range-by-part-part-too-high-total"),
    (["part 1/3"], "part 1/3", CHUNK, "video-content-range-by-part-part-already-sent"),
    (["part 1/3"], "part 2/4", CHUNK, "video-content-range-by-part-different-total-parts"),
    (["part 5/*"], "part 1/4", CHUNK, "video-content-range-by-part-total-parts-too-low"),
    ([], "part 1/3", CHUNK - 1, "video-content-range-by-part-uploaded-file-too-small"),
    ([], "part 3/*", CHUNK - 1, "video-content-range-by-part-uploaded-file-too-small"),  # not known to be last
    (["part 1/*"], "bytes 0-1023/4096", CHUNK, "video-content-range-started-with-part"),
]
BYTES_REFUSALS = [
    ([], "bytes 0-1023/0", CHUNK, "video-content-range-by-bytes-total-bytes-zero"),
    ([], "bytes 0-1023/52428800001", CHUNK, "video-content-range-by-bytes-total-bytes-too-high"),
    ([], "bytes 2000-1000/4096", CHUNK, "video-content-range-by-bytes-from-byte-too-high"),
    ([], "bytes 52428800000-52428801023/*", CHUNK, "video-content-range-by-bytes-to-byte-too-high-allowed"),
    ([], "bytes 3072-4096/4096", CHUNK + 1, "video-content-range-by-bytes-to-byte-too-high-total"),
    (["bytes 0-1023/4096"], "bytes 1024-2047/5000", CHUNK, "video-content-range-by-bytes-different-total-bytes"),
    (["bytes 3072-4095/*"], "bytes 0-1023/4000", CHUNK, "video-content-range-by-bytes-total-bytes-too-low"),
    (["bytes 1024-2047/4096"], "bytes 2000-3023/4096", CHUNK, "video-content-range-by-bytes-range-overlap"),
    (["bytes 1024-2047/4096"], "bytes 1024-2047/4096", CHUNK, "video-content-range-by-bytes-range-overlap"),
    ([], "bytes 0-1023/4096", CHUNK - 1, "video-content-range-by-bytes-range-mismatch"),
    ([], "bytes 0-1023/4096", CHUNK + 1, "video-content-range-by-bytes-range-mismatch"),
    ([], "bytes 0-1022/4096", CHUNK - 1, "video-content-range-by-bytes-range-too-small"),
    (["bytes 0-1023/4096"], "part 2/4", CHUNK, "video-content-range-started-with-bytes"),
]
MALFORMED = ["part 1", "parts 1/2", "bytes 0-10", "bytes=0-10/20", "part -1/3", "part 1/2/3", "bytes 0-1/x", ""]


@pytest.mark.parametrize(("sent", "content_range", "size", "kind"), PART_REFUSALS + BYTES_REFUSALS)
def test_content_range_refusals(av, anon, sent, content_range, size, kind):
    video_id = create_video(av)
    for earlier in sent:
        assert upload_chunk(av, video_id, b"e" * CHUNK, earlier).status_code == 201
    before = inspect_video(anon, video_id)
    response = upload_chunk(av, video_id, b"r" * size, content_range)
    body = assert_apivideo_error(response, 400, kind)
    assert body["name"] in ("Content-Range", "file")
    assert response.headers["X-RateLimit-Remaining"]  # errors carry the rate-limit headers too
    after = inspect_video(anon, video_id)
    assert (after["received_bytes"], after["mode"]) == (before["received_bytes"], before["mode"])


@pytest.mark.parametrize("content_range", MALFORMED)
def test_malformed_content_range(av, content_range):
    video_id = create_video(av)
    response = upload_chunk(av, video_id, b"x" * CHUNK, content_range)
    assert_apivideo_error(response, 400, "video-content-range-malformed", "Content-Range")


def test_the_last_part_may_be_small_and_arrive_first(av, anon):
    video_id = create_video(av)
    assert upload_chunk(av, video_id, b"z", "part 2/2").status_code == 201
    assert upload_chunk(av, video_id, b"a" * CHUNK, "part 1/*").status_code == 201
    assert inspect_video(anon, video_id)["sha256"] == sha256(b"a" * CHUNK + b"z")


def test_file_refusals(av, emulator, anon):
    video_id = create_video(av)
    no_file = av.post(f"/videos/{video_id}/source", data={"title": "no file here"})
    assert_apivideo_error(no_file, 400, "uploaded-file-no-file", "file")
    not_multipart = av.post(f"/videos/{video_id}/source", content=b"raw bytes")
    assert_apivideo_error(not_multipart, 400, "uploaded-file-no-file", "file")
    two = av.post(f"/videos/{video_id}/source", files=[("file", ("a.mp4", b"a")), ("file", ("b.mp4", b"b"))])
    assert_apivideo_error(two, 400, "uploaded-file-multiple-files", "file")
    empty = upload_chunk(av, video_id, b"")
    assert_apivideo_error(empty, 400, "uploaded-file-empty", "file")
    emulator.config.apivideo.max_chunk_bytes = 2000
    too_large = upload_chunk(av, video_id, b"x" * 2001, "part 1/2")
    assert_apivideo_error(too_large, 400, "uploaded-file-too-large", "file")
    range_too_large = upload_chunk(av, video_id, b"x" * 2001, "bytes 0-2000/5000")
    assert_apivideo_error(range_too_large, 400, "video-content-range-by-bytes-range-too-large", "Content-Range")
    assert inspect_video(anon, video_id)["mode"] is None
    assert list((Path(emulator.config.data_dir) / "tmp").iterdir()) == []


def test_second_upload_to_a_complete_video(av):
    video_id = create_video(av)
    assert upload_chunk(av, video_id, b"first").status_code == 201
    again = upload_chunk(av, video_id, b"second")
    assert_apivideo_error(again, 400, "video-source-already-uploaded", "file")
    a_part = upload_chunk(av, video_id, b"x" * CHUNK, "part 1/2")
    assert_apivideo_error(a_part, 400, "video-source-already-uploaded", "file")


def test_whole_file_after_a_chunked_start(av):
    video_id = create_video(av)
    upload_chunk(av, video_id, b"x" * CHUNK, "part 1/2")
    response = upload_chunk(av, video_id, b"everything")
    assert_apivideo_error(response, 400, "video-content-range-already-initiated", "Content-Range")


def test_upload_to_unknown_or_deleted_video(av):
    response = upload_chunk(av, "viNOSUCHVIDEO0000000000000", b"x")
    body = assert_apivideo_error(response, 404, "resource-not-found", "videoId")
    assert body["title"] == "The requested resource was not found."
    video_id = create_video(av)
    upload_chunk(av, video_id, b"x" * CHUNK, "part 1/2")
    assert av.delete(f"/videos/{video_id}").status_code == 204
    assert_apivideo_error(upload_chunk(av, video_id, b"y", "part 2/2"), 404, "resource-not-found", "videoId")


# -- delegated upload tokens ----------------------------------------------------------------------


def new_token(av: httpx.Client, ttl: int = 0) -> str:
    response = av.post("/upload-tokens", json={"ttl": ttl})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def token_upload(
    anon: httpx.Client, token: str, data: bytes, content_range: str | None = None, video_id: str | None = None
) -> httpx.Response:
    headers = {"Content-Range": content_range} if content_range else {}
    fields = {"videoId": video_id} if video_id else None
    return anon.post(
        "/upload", params={"token": token}, data=fields, files={"file": ("holiday.mp4", data)}, headers=headers
    )


def test_token_upload_with_video_id_makes_one_video(av, anon):
    token = new_token(av)
    data = random_bytes(3 * CHUNK)
    chunks = split(data, CHUNK)
    first = token_upload(anon, token, chunks[0], "part 1/3")
    assert first.status_code == 201
    video_id = first.json()["videoId"]
    assert first.json() == {"videoId": video_id}
    assert token_upload(anon, token, chunks[1], "part 2/3", video_id).json() == {"videoId": video_id}
    last = token_upload(anon, token, chunks[2], "part 3/3", video_id)
    assert last.status_code == 201 and last.json()["title"] == "holiday.mp4"
    info = inspect_video(anon, video_id)
    assert info["sha256"] == sha256(data) and info["created_by_token"] == token
    assert [v["videoId"] for v in anon.get("/_emulator/apivideo/videos").json()] == [video_id]


def test_token_upload_without_video_id_makes_one_video_per_chunk(av, anon):
    """What api.video's own clients do (nodejs-client#216): every chunk opens a new video."""
    token = new_token(av)
    chunks = split(random_bytes(3 * CHUNK), CHUNK)
    ids = [token_upload(anon, token, chunk, f"part {n}/3").json()["videoId"] for n, chunk in enumerate(chunks, 1)]
    assert len(set(ids)) == 3
    listing = anon.get("/_emulator/apivideo/videos").json()
    assert [v["videoId"] for v in listing] == ids[::-1]  # newest first
    assert not any(v["complete"] for v in listing)
    assert [inspect_video(anon, i)["parts"] for i in ids] == [[1], [2], [3]]


def test_token_upload_in_one_request(av, anon):
    token = new_token(av)
    response = token_upload(anon, token, b"short clip")
    assert response.status_code == 201
    video = response.json()
    assert video["title"] == "holiday.mp4" and "assets" in video
    assert inspect_video(anon, video["videoId"])["size"] == 10


def test_token_upload_refusals(av, anon, emulator):
    missing = anon.post("/upload", files={"file": ("a", b"a")})
    assert_apivideo_error(missing, 401, "authentication-missing-upload-token")
    unknown = token_upload(anon, "toNOPE", b"a")
    assert_apivideo_error(unknown, 401, "authentication-invalid-upload-token")
    token, other = new_token(av), new_token(av)
    video_id = token_upload(anon, token, b"x" * CHUNK, "part 1/2").json()["videoId"]
    foreign = token_upload(anon, other, b"y", "part 2/2", video_id)
    assert_apivideo_error(foreign, 400, "invalid-attribute", "videoId")
    api_video = create_video(av)
    assert_apivideo_error(token_upload(anon, token, b"y", None, api_video), 400, "invalid-attribute", "videoId")
    assert_apivideo_error(token_upload(anon, token, b"y", "part 2/2", "viNOPE"), 404, "resource-not-found", "videoId")
    # A refused first chunk leaves no video behind.
    small = token_upload(anon, token, b"s", "part 1/2")
    assert_apivideo_error(small, 400, "video-content-range-by-part-uploaded-file-too-small")
    assert len(anon.get("/_emulator/apivideo/videos").json()) == 2
    # Deleted and expired tokens stop working.
    assert av.delete(f"/upload-tokens/{other}").status_code == 204
    assert_apivideo_error(token_upload(anon, other, b"a"), 401, "authentication-invalid-upload-token")
    expiring = new_token(av, ttl=60)
    emulator.app.state.apivideo.auth.upload_tokens[expiring].created_at -= 61
    assert_apivideo_error(token_upload(anon, expiring, b"a"), 401, "authentication-invalid-upload-token")


def test_video_id_after_the_file_part(av, anon):
    """The form field may follow the file: the part is spooled first and placed once videoId is known."""
    token = new_token(av)
    video_id = token_upload(anon, token, b"a" * CHUNK, "part 1/2").json()["videoId"]
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.mp4"\r\n\r\nzz\r\n'
        b'--b\r\nContent-Disposition: form-data; name="videoId"\r\n\r\n' + video_id.encode() + b"\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b", "Content-Range": "part 2/2"}
    response = anon.post("/upload", params={"token": token}, content=body, headers=headers)
    assert response.status_code == 201 and response.json()["videoId"] == video_id
    assert inspect_video(anon, video_id)["sha256"] == sha256(b"a" * CHUNK + b"zz")


def test_client_hanging_up_mid_part_leaves_nothing(av, anon, emulator):
    video_id = create_video(av)
    head = (
        f"POST /videos/{video_id}/source HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {apivideo_basic()['Authorization']}\r\nContent-Range: part 1/2\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
    ).encode()
    part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n' + b"x" * 100_000
    with socket.create_connection(("127.0.0.1", emulator.config.port)) as sock:
        sock.sendall(head + part)
        time.sleep(0.1)
    deadline = time.monotonic() + 30  # a wait for an event, not a bound: generous for a busy machine
    while time.monotonic() < deadline:
        routes = anon.get("/_emulator/stats").json()["routes"]
        if "POST /videos/{videoId}/source" in routes:
            break
        time.sleep(0.02)
    assert routes["POST /videos/{videoId}/source"]["statuses"] == {"disconnected": 1}
    assert list((Path(emulator.config.data_dir) / "tmp").iterdir()) == []
    assert inspect_video(anon, video_id)["mode"] is None
    assert upload_chunk(av, video_id, b"x" * CHUNK, "part 1/2").status_code == 201
