"""The ``/_emulator`` control and inspection endpoints."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from ..support import append_v2, init_v2, inspect, random_bytes, upload_v2

APPEND_ROUTE = "POST /2/media/upload/{id}/append"


def test_health(anon):
    assert anon.get("/_emulator/health").json() == {"ok": True}


def test_media_listing_newest_first(client, anon):
    first = init_v2(client, 10)
    second = upload_v2(client, b"abc")
    client.post(f"/2/media/upload/{second}/finalize")
    listing = anon.get("/_emulator/x/media").json()
    assert [entry["id"] for entry in listing] == [second, first]
    assert listing[0]["state"] == "finalized" and listing[0]["finalized_at"] is not None
    assert listing[1]["state"] == "uploading" and listing[1]["finalized_at"] is None
    assert {"id", "created_at", "finalized_at", "state"} <= set(listing[0])


def test_media_detail_before_finalize(client, anon):
    media_id = init_v2(client, 100, media_type="video/webm", media_category="dm_video")
    append_v2(client, media_id, 3, b"x" * 30)
    append_v2(client, media_id, 0, b"x" * 20)
    info = inspect(anon, media_id)
    assert info["media_key"] == f"7_{media_id}"
    assert info["media_type"] == "video/webm" and info["media_category"] == "dm_video"
    assert info["total_bytes"] == 100 and info["received_bytes"] == 50
    assert info["segments_received"] == 2 and info["segment_indexes"] == [0, 3]
    assert info["finalized"] is False and info["size"] is None and info["sha256"] is None
    assert info["processing_state"] is None and info["finalized_at"] is None
    assert info["created_at"] <= time.time()


def test_unknown_media(anon):
    assert anon.get("/_emulator/x/media/123").status_code == 404
    assert anon.post("/_emulator/x/media/123/expire").status_code == 404
    assert anon.post("/_emulator/x/media/123/processing", json={"outcome": "failed"}).status_code == 404


def test_processing_override_validation(client, anon):
    media_id = init_v2(client, 10)
    assert anon.post(f"/_emulator/x/media/{media_id}/processing", json={"outcome": "maybe"}).status_code == 400
    assert anon.post(f"/_emulator/x/media/{media_id}/processing", json={"oops": 1}).status_code == 400
    assert (
        anon.post(f"/_emulator/x/media/{media_id}/processing", json={"outcome": "failed", "error": 3}).status_code
        == 400
    )


def test_stats_prove_what_a_resume_sent(client, anon):
    segment = random_bytes(10_000)
    media_id = init_v2(client, 4 * len(segment))
    for index in (0, 1):
        append_v2(client, media_id, index, segment)
    anon.post("/_emulator/stats/reset")
    # "Resume": only the missing segments, then finalize.
    for index in (2, 3):
        append_v2(client, media_id, index, segment)
    client.post(f"/2/media/upload/{media_id}/finalize")
    stats = anon.get("/_emulator/stats").json()
    appends = stats["routes"][APPEND_ROUTE]
    assert appends["requests"] == 2
    assert appends["statuses"] == {"200": 2}
    assert 2 * len(segment) <= appends["body_bytes"] < 2 * len(segment) + 2000  # + multipart framing
    assert stats["routes"]["POST /2/media/upload/{id}/finalize"]["requests"] == 1
    assert stats["total_requests"] == 3
    assert stats["total_body_bytes"] == appends["body_bytes"]
    # Control endpoints are not counted.
    assert not any(key.startswith("GET /_emulator") for key in stats["routes"])


def test_stats_name_v11_commands_and_statuses(client, anon):
    client.post("/1.1/media/upload.json", data={"command": "INIT", "total_bytes": "1", "media_type": "image/png"})
    client.post("/1.1/media/upload.json", data={"command": "INIT"})
    anon.post("/2/media/upload/initialize", json={})
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /1.1/media/upload.json INIT"]["statuses"] == {"202": 1, "400": 1}
    assert routes["POST /2/media/upload/initialize"]["statuses"] == {"401": 1}


def test_config_round_trip(anon, emulator):
    config = anon.get("/_emulator/config").json()
    assert config["x"]["bearer_tokens"] == ["chunkup-emulator-token"]
    assert config["x"]["processing_seconds"] == 3.0
    assert config["port"] == emulator.config.port
    patched = anon.patch(
        "/_emulator/config",
        json={
            "x": {
                "processing_seconds": 0,
                "processing_outcome": "failed",
                "bearer_tokens": ["a", "b"],
                "size_limits": {"tweet_image": 100, "subtitles": None},
                "check_after_secs": 5.0,
            }
        },
    )
    assert patched.status_code == 200, patched.text
    x = emulator.config.x
    assert x.processing_seconds == 0 and x.processing_outcome == "failed"
    assert x.bearer_tokens == {"a", "b"}
    assert x.size_limits["tweet_image"] == 100 and "subtitles" not in x.size_limits
    assert x.check_after_secs == 5 and isinstance(x.check_after_secs, int)
    # null resets a field to its default.
    anon.patch("/_emulator/config", json={"x": {"bearer_tokens": None}})
    assert x.bearer_tokens == {"chunkup-emulator-token"}


@pytest.mark.parametrize(
    "patch",
    [
        {"x": {"no_such_field": 1}},
        {"nope": 1},
        {"port": 1234},
        {"data_dir": "/tmp"},
        {"x": {"rate_limit": "10"}},
        {"x": {"rate_limit": 1.5}},
        {"x": {"rate_limit": -1}},
        {"x": {"enforce_size_limits": 1}},
        {"x": {"processing_outcome": "exploded"}},
        {"x": {"bearer_tokens": "abc"}},
        {"x": {"size_limits": {"tweet_image": "big"}}},
        {"x": {"rate_limit_window_secs": 0}},
        {"x": 5},
    ],
)
def test_bad_config_patch_changes_nothing(anon, patch):
    before = anon.get("/_emulator/config").json()
    response = anon.patch("/_emulator/config", json=patch)
    assert response.status_code == 400
    assert "error" in response.json()
    assert anon.get("/_emulator/config").json() == before


def test_reset_restores_startup_state(client, anon, emulator):
    media_id = init_v2(client, 10)
    anon.patch("/_emulator/config", json={"x": {"rate_limit": 5}})
    anon.post("/_emulator/faults", json={"match": "initialize"})
    assert anon.post("/_emulator/reset").json() == {"ok": True}
    assert emulator.config.x.rate_limit == 1875
    assert anon.get(f"/_emulator/x/media/{media_id}").status_code == 404
    assert anon.get("/_emulator/faults").json()["rules"] == []
    assert anon.get("/_emulator/stats").json()["total_requests"] == 0


# -- fault injection ------------------------------------------------------------------------------


def test_error_fault_then_recovery(client, anon):
    media_id = init_v2(client, 4)
    rule = anon.post("/_emulator/faults", json={"match": "/append", "status": 503, "times": 2})
    assert rule.status_code == 201
    assert [append_v2(client, media_id, 0, b"abcd").status_code for _ in range(3)] == [503, 503, 200]
    assert anon.get("/_emulator/faults").json()["rules"][0]["hits"] == 2
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200


def test_injected_429_looks_like_x(client, anon):
    anon.post("/_emulator/faults", json={"match": "initialize", "status": 429})
    response = client.post("/2/media/upload/initialize", json={"media_type": "video/mp4", "total_bytes": 1})
    assert response.status_code == 429
    assert response.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}


def test_drop_after_handling_keeps_the_segment(client, anon):
    """The response is lost but the segment was stored: a retry must be harmless."""
    media_id = init_v2(client, 4)
    anon.post("/_emulator/faults", json={"match": r"^POST .*/append$", "action": "drop", "when": "after"})
    with pytest.raises(httpx.RemoteProtocolError):
        append_v2(client, media_id, 0, b"abcd")
    assert inspect(anon, media_id)["segment_indexes"] == [0]
    assert append_v2(client, media_id, 0, b"abcd").status_code == 200
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    routes = anon.get("/_emulator/stats").json()["routes"]
    assert routes["POST /2/media/upload/{id}/append"]["statuses"] == {"dropped": 1, "200": 1}


def test_drop_before_handling_stores_nothing(client, anon):
    media_id = init_v2(client, 4)
    anon.post("/_emulator/faults", json={"match": "/append", "action": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        append_v2(client, media_id, 0, b"abcd")
    assert inspect(anon, media_id)["segment_indexes"] == []


def test_delay_fault(client, anon):
    anon.post("/_emulator/faults", json={"match": "initialize", "action": "delay", "delay_secs": 0.3})
    started = time.monotonic()
    assert (
        client.post("/2/media/upload/initialize", json={"media_type": "video/mp4", "total_bytes": 1}).status_code == 200
    )
    assert time.monotonic() - started >= 0.3


def test_unlimited_fault_until_cleared(client, anon):
    anon.post("/_emulator/faults", json={"match": "initialize", "status": 500, "times": 0})
    body = {"media_type": "video/mp4", "total_bytes": 1}
    assert {client.post("/2/media/upload/initialize", json=body).status_code for _ in range(3)} == {500}
    assert anon.delete("/_emulator/faults").json()["rules"] == []
    assert client.post("/2/media/upload/initialize", json=body).status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"match": "("},
        {"match": "x", "action": "explode"},
        {"match": "x", "when": "during"},
        {"match": "x", "status": 42},
        {"match": "x", "times": -1},
        {"match": "x", "bogus": 1},
    ],
)
def test_bad_fault_rules(anon, rule):
    assert anon.post("/_emulator/faults", json=rule).status_code == 400


def test_client_disconnect_mid_segment_leaves_nothing_behind(client, anon, emulator):
    media_id = init_v2(client, 10)
    head = (
        f"POST /2/media/upload/{media_id}/append HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Authorization: Bearer chunkup-emulator-token\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
    ).encode()
    part = b'--b\r\nContent-Disposition: form-data; name="media"; filename="x"\r\n\r\n' + b"x" * 100_000
    with socket.create_connection(("127.0.0.1", emulator.config.port)) as sock:
        sock.sendall(head + part)
        time.sleep(0.2)
    deadline = time.monotonic() + 30  # a wait for an event, not a bound: generous for a busy machine
    while time.monotonic() < deadline:
        statuses = anon.get("/_emulator/stats").json()["routes"].get(APPEND_ROUTE, {}).get("statuses")
        if statuses:
            break
        time.sleep(0.02)
    assert statuses == {"disconnected": 1}
    assert list((Path(emulator.config.data_dir) / "tmp").iterdir()) == []
    assert inspect(anon, media_id)["segments_received"] == 0


def test_rejected_segments_leave_no_temp_files(client, emulator):
    emulator.config.x.max_segment_bytes = 100
    media_id = init_v2(client, 1000)
    append_v2(client, media_id, 0, b"x" * 101)  # too large
    append_v2(client, media_id, 1000, b"x" * 10)  # bad index
    client.post(f"/2/media/upload/{media_id}/append", files={"media": ("b", b"x")})  # no segment_index
    assert list((Path(emulator.config.data_dir) / "tmp").iterdir()) == []
