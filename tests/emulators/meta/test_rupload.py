"""Instagram containers and Page Reels over rupload: offsets, resume from bytes_transferred, status, publish."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from .helpers import VERSION, graph_error, inspect, rupload, sha256

KIB = 1024
MIB = 1024 * KIB


def container(graph, caption: str = "hello", media_type: str = "REELS") -> dict[str, str]:
    response = graph.post("/178/media", data={"media_type": media_type, "upload_type": "resumable",
                                              "caption": caption})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def status(graph, object_id: str) -> dict:
    return graph.get(f"/{object_id}", params={"fields": "status_code,status,video_status"}).json()


def test_instagram_reel_in_two_offsets_then_finished_and_published(emulator, graph, plain, anon, clock):
    emulator.config.meta.processing_secs = 30
    made = container(graph)
    assert made["uri"] == f"{emulator.url}/ig-api-upload/{VERSION}/{made['id']}"
    data = os.urandom(150 * KIB)
    first = rupload(plain, made["uri"], 0, len(data), data[: 100 * KIB])
    assert first.status_code == 200 and first.json() == {"success": True, "message": "Upload successful."}
    half = status(graph, made["id"])
    assert half["status_code"] == "IN_PROGRESS"
    assert half["video_status"]["uploading_phase"] == {"status": "in_progress", "bytes_transferred": 100 * KIB}
    assert rupload(plain, made["uri"], 100 * KIB, len(data), data[100 * KIB :]).status_code == 200
    assert status(graph, made["id"])["status_code"] == "IN_PROGRESS"  # processing from the last byte
    early = graph.post("/178/media_publish", params={"creation_id": made["id"]})
    error = graph_error(early)
    assert (error["code"], error["error_subcode"]) == (9007, 2207027)
    clock.advance(30)
    done = status(graph, made["id"])
    assert done["status_code"] == "FINISHED" and done["status"].startswith("Finished")
    assert done["video_status"]["uploading_phase"] == {"status": "complete", "bytes_transferred": len(data)}
    published = graph.post("/178/media_publish", params={"creation_id": made["id"]})
    assert published.status_code == 200 and published.json()["id"]
    assert status(graph, made["id"])["status_code"] == "PUBLISHED"
    info = inspect(anon, "containers", made["id"])
    assert info["sha256"] == sha256(data) and info["caption"] == "hello" and info["media_type"] == "REELS"
    assert anon.get("/_emulator/stats").json()["meta_published"] == 1


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Ask until ``check()`` holds (each answer is an event from the server), or fail after many answers."""
    for _ in range(10_000):
        if check():
            return
    raise AssertionError(f"the emulator never showed {what}")


def test_a_broken_body_keeps_what_arrived_and_the_upload_resumes_from_bytes_transferred(emulator, graph, plain, anon):
    """The connection breaks once the emulator stored 2 MiB; a server may lose what it had not read yet (uvicorn
    does), so the bytes held are between those stored before the break and those sent: resume from them."""
    emulator.config.meta.processing_secs = 0
    made = container(graph)
    data = os.urandom(3 * MIB)
    url = urlsplit(made["uri"])
    sent = 2 * MIB + 512 * KIB

    def held() -> int:
        return status(graph, made["id"])["video_status"]["uploading_phase"]["bytes_transferred"]

    with socket.create_connection((url.hostname, url.port)) as raw:
        head = (f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: OAuth meta-token\r\n"
                f"offset: 0\r\nfile_size: {len(data)}\r\nContent-Length: {len(data)}\r\n\r\n")  # fmt: skip
        raw.sendall(head.encode() + data[:sent])
        wait_for(lambda: held() >= 2 * MIB, "2 MiB stored")
    wait_for(lambda: anon.get("/_emulator/stats").json()["meta_broken_bodies"] == 1, "the broken body")
    kept = held()
    assert 2 * MIB <= kept <= sent
    again = rupload(plain, made["uri"], 0, len(data), data)  # offset 0 again: refused, names the bytes held
    assert again.status_code == 400 and again.json()["debug_info"]["retriable"] is True
    assert str(kept) in again.json()["debug_info"]["message"]
    assert rupload(plain, made["uri"], kept, len(data), data[kept:]).status_code == 200
    assert status(graph, made["id"])["status_code"] == "FINISHED"
    assert inspect(anon, "containers", made["id"])["sha256"] == sha256(data)


def test_rupload_refusals(graph, plain):
    made = container(graph)
    uri = made["uri"]
    assert rupload(plain, uri, 0, 10, b"x" * 10, token="nope").status_code == 401
    assert plain.post(uri, content=b"x", headers={"Authorization": "OAuth meta-token"}).status_code == 400
    assert rupload(plain, uri.replace(made["id"], "999"), 0, 10, b"x" * 10).status_code == 404
    assert rupload(plain, uri, 0, 10, b"x" * 11).json()["debug_info"]["type"] == "ProcessingFailedError"
    assert rupload(plain, uri, 0, 10, b"x" * 4).status_code == 200
    assert "differs" in rupload(plain, uri, 4, 12, b"x" * 6).json()["debug_info"]["message"]


def test_container_refusals(emulator, graph):
    for form, word in ((
        {"media_type": "PHOTO", "upload_type": "resumable"}, "media_type"),
        ({"media_type": "REELS"}, "resumable"),
        ({"media_type": "REELS", "upload_type": "resumable", "caption": "c" * 2201}, "2200"),
    ):  # fmt: skip
        assert word in graph_error(graph.post("/178/media", data=form))["message"]
    assert container(graph, caption="c" * 2200, media_type="STORIES")["id"]
    made = container(graph)
    assert "not a container" in graph_error(graph.post("/999/media_publish",
                                                       params={"creation_id": made["id"]}))["message"]  # fmt: skip


def test_containers_expire_after_24_hours_and_processing_can_fail(emulator, graph, plain, clock):
    emulator.config.meta.processing_secs = 0
    made = container(graph)
    clock.advance(86400)
    assert status(graph, made["id"])["status_code"] == "EXPIRED"
    assert graph_error(graph.post("/178/media_publish", params={"creation_id": made["id"]}))["code"] == 9007
    emulator.config.meta.processing_failure_rate = 1.0
    failing = container(graph)
    rupload(plain, failing["uri"], 0, 2048, os.urandom(2048))
    assert status(graph, failing["id"])["status_code"] == "ERROR"


def test_a_page_reel_start_bytes_finish_and_status(emulator, graph, plain, anon, clock):
    emulator.config.meta.processing_secs = 4
    started = graph.post("/1234/video_reels", data={"upload_phase": "start"})
    assert started.status_code == 200, started.text
    vid, url = started.json()["video_id"], started.json()["upload_url"]
    assert url == f"{emulator.url}/video-upload/{VERSION}/{vid}"
    data = os.urandom(90 * KIB)
    early = graph.post("/1234/video_reels", data={"upload_phase": "finish", "video_id": vid,
                                                  "video_state": "PUBLISHED"})  # fmt: skip
    assert graph_error(early)["error_subcode"] == 1363045
    assert rupload(plain, url, 0, len(data), data[: 50 * KIB]).status_code == 200
    uploading = graph.get(f"/{vid}", params={"fields": "status"}).json()["status"]["uploading_phase"]
    assert uploading == {"status": "in_progress", "bytes_transferred": 50 * KIB}
    assert rupload(plain, url, 50 * KIB, len(data), data[50 * KIB :]).status_code == 200
    bad_state = graph.post("/1234/video_reels", data={"upload_phase": "finish", "video_id": vid, "video_state": "X"})
    assert "video_state" in graph_error(bad_state)["message"]
    scheduled = graph.post("/1234/video_reels", data={"upload_phase": "finish", "video_id": vid,
                                                      "video_state": "SCHEDULED"})  # fmt: skip
    assert "scheduled_publish_time" in graph_error(scheduled)["message"]
    done = graph.post("/1234/video_reels", data={"upload_phase": "finish", "video_id": vid, "video_state": "DRAFT",
                                                 "description": "a reel"})  # fmt: skip
    assert done.json() == {"success": True}
    clock.advance(4)
    reel = graph.get(f"/{vid}", params={"fields": "status"}).json()["status"]
    assert reel["video_status"] == "ready" and reel["publishing_phase"] == {"status": "not_started"}  # a draft
    info = inspect(anon, "videos", vid)
    assert info["kind"] == "reel" and info["sha256"] == sha256(data) and info["video_state"] == "DRAFT"
    assert info["description"] == "a reel"
    assert "not a reel" in graph_error(graph.post("/1234/video_reels", data={"upload_phase": "finish",
                                                                            "video_id": "5"}))["message"]  # fmt: skip


def test_an_injected_rate_limit_on_rupload_is_graphs_throttle_and_keeps_no_byte(graph, plain, anon):
    made = container(graph)
    data = os.urandom(4096)
    anon.post("/_emulator/faults", json={"match": "ig-api-upload", "action": "rate_limit", "times": 1})
    throttled = rupload(plain, made["uri"], 0, len(data), data)
    assert graph_error(throttled)["code"] == 4 and json.loads(throttled.headers["X-App-Usage"])["call_count"] == 100
    assert status(graph, made["id"])["video_status"]["uploading_phase"]["bytes_transferred"] == 0
    assert rupload(plain, made["uri"], 0, len(data), data).status_code == 200
    assert inspect(anon, "containers", made["id"])["sha256"] == sha256(data)


def test_a_second_writer_at_the_same_time_is_refused(graph, plain):
    made = container(graph)
    data = os.urandom(2 * MIB)
    url = urlsplit(made["uri"])

    def held() -> int:
        return status(graph, made["id"])["video_status"]["uploading_phase"]["bytes_transferred"]

    with socket.create_connection((url.hostname, url.port)) as raw:
        head = (f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: OAuth meta-token\r\n"
                f"offset: 0\r\nfile_size: {len(data)}\r\nContent-Length: {len(data)}\r\n\r\n")  # fmt: skip
        raw.sendall(head.encode() + data[: MIB + KIB])
        wait_for(lambda: held() >= MIB, "1 MiB stored")
        second = rupload(plain, made["uri"], held(), len(data), data[held() :])
        assert second.status_code == 409 and second.json()["debug_info"]["retriable"] is True
        raw.sendall(data[MIB + KIB :])
        answer = b""
        while b"\r\n" not in answer:
            answer += raw.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 ")
    assert held() == len(data)
