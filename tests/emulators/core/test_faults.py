"""Fault injection over real HTTP: rates under a seed, status lists, 429 bursts as each API sends
them, connections cut mid-body, processing failures, counters, presets and ``--faults`` specs."""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from airflow_provider_chunkup.emulators import EmulatorConfig, EmulatorServer
from airflow_provider_chunkup.emulators.app import APIS
from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args, faults_from_args
from airflow_provider_chunkup.emulators.core.api import all_chunk_targets
from airflow_provider_chunkup.emulators.core.fault_specs import CHUNK_FAULT_MIX, chunk_match, parse_fault_spec, preset
from airflow_provider_chunkup.emulators.core.faults import FaultInjector, FaultRule

from ..support import (
    BEARER,
    CR_CHUNK,
    V11,
    append_v2,
    assert_apivideo_error,
    cr_chunk,
    create_video,
    init_v2,
    inspect,
    inspect_cr,
    inspect_video,
    random_bytes,
    sha256,
    upload_chunk,
)

INIT_BODY = {"media_type": "video/mp4", "total_bytes": 1}
APPEND_ROUTE = "POST /2/media/upload/{id}/append"
MIB = 1024 * 1024
CHUNK_PATH = "/api/v2/media/upload/chunk/"
#: Every API's chunk targets under the default config (the Content-Range chunk path is ``CHUNK_PATH``).
PRESET_TARGETS = all_chunk_targets(APIS, EmulatorConfig())


def statuses_of_inits(client: httpx.Client, n: int) -> list[int]:
    return [client.post("/2/media/upload/initialize", json=INIT_BODY).status_code for _ in range(n)]


def faults(anon: httpx.Client) -> dict:
    response = anon.get("/_emulator/faults")
    assert response.status_code == 200
    return response.json()


def assert_no_temp_files(emulator: EmulatorServer) -> None:
    assert list((Path(emulator.config.data_dir) / "tmp").iterdir()) == []


# -- rate and seed --------------------------------------------------------------------------------


def test_rate_is_honoured_and_the_seed_repeats_the_sequence(client, anon):
    rule = {"match": "initialize", "status": 500, "rate": 0.3, "times": 0}
    assert anon.post("/_emulator/faults", json={"seed": 7, "rules": [rule]}).status_code == 201
    first = statuses_of_inits(client, 200)
    assert set(first) == {200, 500}
    faulted = first.count(500)
    assert 40 <= faulted <= 80  # 0.3 of 200, give or take three standard deviations
    state = faults(anon)
    assert state["seed"] == 7
    assert state["rules"][0]["matched"] == 200 and state["rules"][0]["hits"] == faulted
    # A seed alone restarts the sequence: the same requests get the same faults.
    assert anon.post("/_emulator/faults", json={"seed": 7}).status_code == 200
    assert statuses_of_inits(client, 200) == first
    anon.post("/_emulator/faults", json={"seed": 8})
    assert statuses_of_inits(client, 200) != first


def test_rate_with_times_stops_after_that_many_faults(client, anon):
    anon.post("/_emulator/faults", json={"seed": 3, "rules": [{"match": "initialize", "rate": 0.5, "times": 3}]})
    statuses = statuses_of_inits(client, 40)
    assert statuses.count(503) == 3
    last_fault = max(i for i, s in enumerate(statuses) if s == 503)
    assert set(statuses[last_fault + 1 :]) == {200}
    rule = faults(anon)["rules"][0]
    assert rule["hits"] == 3 and rule["matched"] == last_fault + 1


def test_clearing_restarts_the_sequence(client, anon):
    rule = {"match": "initialize", "status": 500, "rate": 0.5, "times": 0}
    anon.post("/_emulator/faults", json={"seed": 21, "rules": [rule]})
    first = statuses_of_inits(client, 30)
    cleared = anon.delete("/_emulator/faults").json()
    assert cleared["rules"] == [] and cleared["seed"] == 21 and cleared["injected"]["total"] == 0
    anon.post("/_emulator/faults", json=rule)
    assert statuses_of_inits(client, 30) == first


def test_startup_faults_and_seed_are_reproducible_and_restored_by_reset():
    rules = [{"match": "initialize", "status": [500, 503], "rate": 0.4, "times": 0}]

    def run(server: EmulatorServer) -> list[int]:
        with httpx.Client(base_url=server.url, headers=BEARER, timeout=30) as c:
            return statuses_of_inits(c, 40)

    with EmulatorServer(faults=rules, fault_seed=11) as server:
        first = run(server)
        assert {500, 503} <= set(first)
        server.reset()  # the startup rules again, their sequence from its start
        assert run(server) == first
        snapshot = httpx.get(f"{server.url}/_emulator/faults").json()
        assert snapshot["seed"] == 11 and snapshot["rules"][0]["matched"] == 40
    with EmulatorServer(faults=rules, fault_seed=11) as other:
        assert run(other) == first


def test_a_bad_startup_rule_is_refused_before_binding():
    with pytest.raises(ValueError, match="rate must be a number"):
        EmulatorServer(faults=[{"match": "x", "rate": 2}])


def test_status_list_picks_every_status_under_the_seed(client, anon):
    anon.post(
        "/_emulator/faults",
        json={"seed": 5, "rules": [{"match": "initialize", "status": [500, 502, 503], "times": 0}]},
    )
    first = statuses_of_inits(client, 60)
    counts = Counter(first)
    assert set(counts) == {500, 502, 503} and all(n >= 10 for n in counts.values())
    anon.post("/_emulator/faults", json={"seed": 5})
    assert statuses_of_inits(client, 60) == first


def test_delay_composes_with_rate(client, anon):
    # Which of 10 requests a rate of 0.4 picks under seed 4: an error rule draws the same sequence.
    anon.post("/_emulator/faults", json={"seed": 4, "rules": [{"match": "initialize", "rate": 0.4, "times": 0}]})
    picked = [status == 503 for status in statuses_of_inits(client, 10)]
    assert 0 < sum(picked) < 10
    anon.delete("/_emulator/faults")
    rule = {"match": "initialize", "action": "delay", "delay_secs": 0.25, "rate": 0.4, "times": 0}
    anon.post("/_emulator/faults", json={"seed": 4, "rules": [rule]})
    took = []
    for _ in range(10):
        started = time.monotonic()
        assert client.post("/2/media/upload/initialize", json=INIT_BODY).status_code == 200
        took.append(time.monotonic() - started)
    # The same requests were picked (and only they: the rule counts what it delays)...
    assert faults(anon)["rules"][0]["hits"] == sum(picked)
    # ...and each of them waited the delay. Only a lower bound: a busy machine makes any request slow.
    assert all(seconds >= 0.25 for seconds, slowed in zip(took, picked, strict=True) if slowed), (took, picked)


# -- 429 bursts as each API sends them ------------------------------------------------------------


def rate_limit_rule(match: str, **extra) -> dict:
    return {"match": match, "action": "rate_limit", **extra}


@pytest.mark.parametrize(("path", "limit"), [("/2/media/upload/initialize", "1875"), (V11, "1875")], ids=["v2", "v1.1"])
def test_x_429_headers_and_body(client, anon, path, limit):
    anon.post("/_emulator/faults", json=rate_limit_rule(path.replace(".", r"\."), retry_after_secs=3))
    before = time.time()
    response = client.post(path, json=INIT_BODY)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert response.headers["x-rate-limit-limit"] == limit
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert math.ceil(before + 3) <= int(response.headers["x-rate-limit-reset"]) <= math.ceil(time.time() + 3)
    assert "retry-after" not in response.headers and "x-ratelimit-retry-after" not in response.headers


def test_x_429_status_bucket_and_zero_wait(client, anon, emulator):
    emulator.config.x.status_rate_limit = 42
    anon.post("/_emulator/faults", json=rate_limit_rule("^GET /2/media/upload", retry_after_secs=0))
    before = time.time()
    response = client.get("/2/media/upload", params={"command": "STATUS", "media_id": "1"})
    assert response.status_code == 429
    assert response.headers["x-rate-limit-limit"] == "42"
    assert math.ceil(before) <= int(response.headers["x-rate-limit-reset"]) <= math.ceil(time.time())


def test_apivideo_429_headers_and_body(av, anon):
    video_id = create_video(av)
    anon.post("/_emulator/faults", json=rate_limit_rule("/source$", retry_after_secs=2))
    response = upload_chunk(av, video_id, b"x" * 2048, "part 1/1")
    body = assert_apivideo_error(response, 429, "too-many-requests")
    assert body == {"type": "https://docs.api.video/reference/too-many-requests", "title": "Too many requests.",
                    "status": 429}  # fmt: skip
    assert response.headers["X-RateLimit-Limit"] == "100"  # the upload bucket
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Retry-After"] == "2"
    assert "retry-after" not in response.headers and "x-rate-limit-reset" not in response.headers
    assert inspect_video(anon, video_id)["received_bytes"] == 0


@pytest.mark.parametrize(
    ("method", "path", "limit"),
    [("POST", "/videos", "200"), ("GET", "/videos/vi1/status", "500"), ("POST", "/auth/api-key", "200"),
     ("POST", "/upload", "100")],
    ids=["write", "read", "auth", "upload-token"],
)  # fmt: skip
def test_apivideo_429_buckets(av, anon, method, path, limit):
    anon.post("/_emulator/faults", json=rate_limit_rule(f"^{method} {path}"))
    response = av.request(method, path, json={})
    assert_apivideo_error(response, 429, "too-many-requests")
    assert response.headers["X-RateLimit-Limit"] == limit
    assert response.headers["X-RateLimit-Retry-After"] == "1"


@pytest.mark.parametrize(("wait", "unit"), [(1, "second"), (5, "seconds")])
def test_content_range_429_retry_after(cr, anon, wait, unit):
    anon.post("/_emulator/faults", json=rate_limit_rule(f"^POST {CR_CHUNK}$", retry_after_secs=wait))
    response = cr_chunk(cr, b"abc", "bytes 0-2/3")
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(wait)
    assert response.json() == {"detail": f"Request was throttled. Expected available in {wait} {unit}."}
    assert not any(name.startswith(("x-rate", "x-ratelimit")) for name in response.headers)
    assert anon.get("/_emulator/content-range/uploads").json() == []


def test_429_on_a_path_no_api_serves(anon):
    anon.post("/_emulator/faults", json=rate_limit_rule("^GET /nowhere$", retry_after_secs=3))
    response = anon.get("/nowhere")
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {"title": "Injected fault", "type": "about:blank", "status": 429,
                               "detail": "Fault injected by chunkup-emulator"}


def test_error_status_429_answers_like_the_api(av, anon):
    anon.post("/_emulator/faults", json={"match": "^POST /videos$", "status": 429})
    response = av.post("/videos", json={"title": "t"})
    assert_apivideo_error(response, 429, "too-many-requests")
    assert response.headers["X-RateLimit-Retry-After"] == "1"


def test_rate_limit_bursts_are_consecutive(client, anon):
    rule = rate_limit_rule("initialize", rate=0.2, burst=3, times=0, retry_after_secs=0)
    anon.post("/_emulator/faults", json={"seed": 9, "rules": [rule]})
    statuses = statuses_of_inits(client, 90)
    runs, run = [], 0
    for status in [*statuses, 200]:
        if status == 429:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    complete = runs[:-1] if statuses[-1] == 429 else runs  # the last burst may be cut by the end
    assert len(complete) >= 2 and all(length % 3 == 0 for length in complete)
    state = faults(anon)
    assert state["rules"][0]["hits"] == statuses.count(429) == state["injected"]["rate_limit"]


def test_a_burst_runs_before_other_rules(client, anon):
    anon.post(
        "/_emulator/faults",
        json=[{"match": "initialize", "status": 500, "times": 0, "rate": 0.5},
              rate_limit_rule("initialize", burst=4, times=4)],
    )  # fmt: skip
    anon.post("/_emulator/faults", json={"seed": 1})
    statuses = statuses_of_inits(client, 40)
    first = statuses.index(429)
    assert statuses[first : first + 4] == [429] * 4
    assert statuses.count(429) == 4


# -- connections cut mid-body ---------------------------------------------------------------------


def mid_body_rule(match: str) -> dict:
    return {"match": match, "action": "drop", "when": "mid_body"}


def test_delay_per_mib_models_a_links_bandwidth(client, anon):
    """``delay_secs_per_mib`` adds wait in proportion to the body: 2 MiB at 0.25 s per MiB waits 0.5 s more."""
    media_id = init_v2(client, 2 * MIB + 8)
    anon.post("/_emulator/faults", json={"match": "/append$", "action": "delay", "delay_secs": 0.05,
                                         "delay_secs_per_mib": 0.25, "times": 0})
    started = time.monotonic()
    assert append_v2(client, media_id, 0, random_bytes(2 * MIB)).status_code == 200
    big = time.monotonic() - started
    started = time.monotonic()
    assert append_v2(client, media_id, 1, b"12345678").status_code == 200
    small = time.monotonic() - started
    # Lower bounds only: a busy machine makes any request slower, never faster.
    assert big >= 0.05 + 0.25 * 2 and small >= 0.05, (big, small)
    assert faults(anon)["rules"][0]["hits"] == 2


def test_delay_per_mib_is_validated(anon):
    answer = anon.post("/_emulator/faults", json={"match": "x", "action": "delay", "delay_secs_per_mib": -1})
    assert answer.status_code == 400 and "delay_secs_per_mib must be a non-negative number" in answer.text


def test_mid_body_drop_x_v2_stores_nothing(client, anon, emulator):
    segment = random_bytes(3 * MIB)
    media_id = init_v2(client, len(segment))
    anon.post("/_emulator/faults", json=mid_body_rule("/append$"))
    with pytest.raises(httpx.TransportError):
        append_v2(client, media_id, 0, segment)
    assert inspect(anon, media_id)["segment_indexes"] == []
    route = anon.get("/_emulator/stats").json()["routes"][APPEND_ROUTE]
    assert route["statuses"] == {"dropped": 1}
    assert len(segment) // 2 <= route["body_bytes"] < len(segment)  # half arrived, then the cut
    assert_no_temp_files(emulator)
    # The client's retry on a new connection goes through.
    assert append_v2(client, media_id, 0, segment).status_code == 200
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(segment)


def test_mid_body_drop_x_v11_append_only(client, anon, emulator):
    init = client.post(V11, data={"command": "INIT", "total_bytes": "3", "media_type": "image/png"})
    media_id = init.json()["media_id_string"]
    anon.post("/_emulator/faults", json=mid_body_rule(r"^POST /1\.1/media/upload\.json APPEND$"))
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": "0"}
    with pytest.raises(httpx.TransportError):
        client.post(V11, data=fields, files={"media": ("blob", b"abc")})
    assert inspect(anon, media_id)["segment_indexes"] == []
    assert_no_temp_files(emulator)
    assert client.post(V11, data=fields, files={"media": ("blob", b"abc")}).status_code == 204


def test_mid_body_drop_apivideo_source_and_upload_token(av, anon, emulator):
    video_id = create_video(av)
    anon.post("/_emulator/faults", json=mid_body_rule("^POST /videos/[^/]+/source$"))
    with pytest.raises(httpx.TransportError):
        upload_chunk(av, video_id, random_bytes(2 * MIB), "part 1/1")
    info = inspect_video(anon, video_id)
    assert info["received_bytes"] == 0 and info["parts"] == []
    token = av.post("/upload-tokens", json={}).json()["token"]
    anon.post("/_emulator/faults", json=mid_body_rule(r"^POST /upload\?"))
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{emulator.url}/upload", params={"token": token}, files={"file": ("a.mp4", random_bytes(MIB))})
    assert [v["videoId"] for v in anon.get("/_emulator/apivideo/videos").json()] == [video_id]
    assert_no_temp_files(emulator)


def test_mid_body_drop_content_range_stores_nothing(cr, anon, emulator):
    emulator.config.content_range.max_chunk_bytes = 4 * MIB
    anon.post("/_emulator/faults", json=mid_body_rule(f"^POST {CR_CHUNK}$"))
    data = random_bytes(2 * MIB)
    with pytest.raises(httpx.TransportError):
        cr_chunk(cr, data, f"bytes 0-{len(data) - 1}/{len(data)}")
    assert anon.get("/_emulator/content-range/uploads").json() == []
    assert_no_temp_files(emulator)
    response = cr_chunk(cr, data, f"bytes 0-{len(data) - 1}/{len(data)}")
    assert response.status_code == 201
    assert inspect_cr(anon, response.json()["upload_id"])["offset"] == len(data)


def test_mid_body_drop_of_a_bodiless_request(client, anon):
    media_id = init_v2(client, 3)
    append_v2(client, media_id, 0, b"abc")
    anon.post("/_emulator/faults", json=mid_body_rule("/finalize$"))
    with pytest.raises(httpx.TransportError):
        client.post(f"/2/media/upload/{media_id}/finalize")
    assert inspect(anon, media_id)["finalized"] is False


def test_v11_command_read_from_a_urlencoded_body_after_the_media(client, anon):
    init = client.post(V11, data={"command": "INIT", "total_bytes": "3", "media_type": "image/png"})
    media_id = init.json()["media_id_string"]
    anon.post("/_emulator/faults", json={"match": "APPEND$", "status": 502, "times": 0})
    body = {"media_data": "YWJj" * 5000, "media_id": media_id, "segment_index": "0", "command": "APPEND"}
    assert client.post(V11, data=body).status_code == 502
    assert client.post(V11, params={"command": "APPEND"}, data={"media_id": media_id}).status_code == 502
    # Other commands on the same path are not APPEND.
    assert client.post(V11, data={"command": "FINALIZE", "media_id": media_id}).status_code == 400
    assert faults(anon)["rules"][0]["hits"] == 2


# -- processing that fails ------------------------------------------------------------------------


def finalized_video(client: httpx.Client) -> str:
    media_id = init_v2(client, 3)
    append_v2(client, media_id, 0, b"abc")
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    return media_id


def test_x_processing_failure_rate_is_seeded(client, anon, emulator):
    emulator.config.x.processing_seconds = 0
    anon.patch("/_emulator/config", json={"x": {"processing_failure_rate": 0.5}})
    anon.post("/_emulator/faults", json={"seed": 12})

    def run() -> list[str]:
        ids = [finalized_video(client) for _ in range(24)]
        return [inspect(anon, media_id)["processing_state"] for media_id in ids]

    first = run()
    failed = first.count("failed")
    assert set(first) == {"succeeded", "failed"} and 4 <= failed <= 20
    assert faults(anon)["injected"]["processing_failure"] == failed
    anon.post("/_emulator/faults", json={"seed": 12})
    assert run() == first


def test_x_processing_failure_shows_in_status_and_overrides_win(client, anon, emulator):
    emulator.config.x.processing_seconds = 0
    emulator.config.x.processing_failure_rate = 1.0
    media_id = finalized_video(client)
    status = client.get("/2/media/upload", params={"command": "STATUS", "media_id": media_id}).json()
    assert status["data"]["processing_info"] == {
        "state": "failed",
        "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"},
    }
    assert inspect(anon, media_id)["processing_failure_injected"] is True
    anon.post(f"/_emulator/x/media/{media_id}/processing", json={"outcome": "succeeded"})
    assert inspect(anon, media_id)["processing_state"] == "succeeded"
    # An override set before FINALIZE is not rolled against.
    other = init_v2(client, 3)
    append_v2(client, other, 0, b"abc")
    anon.post(f"/_emulator/x/media/{other}/processing", json={"outcome": "succeeded"})
    client.post(f"/2/media/upload/{other}/finalize")
    assert inspect(anon, other)["processing_state"] == "succeeded"
    assert faults(anon)["injected"]["processing_failure"] == 1


def uploaded_video(av: httpx.Client) -> str:
    video_id = create_video(av)
    assert upload_chunk(av, video_id, b"v" * 100, "part 1/1").status_code == 201
    return video_id


def test_apivideo_encoding_failure_rate_is_seeded(av, anon, emulator):
    emulator.config.apivideo.encoding_seconds = 0
    anon.patch("/_emulator/config", json={"apivideo": {"encoding_failure_rate": 0.5}})
    anon.post("/_emulator/faults", json={"seed": 2})

    def run() -> list[str]:
        ids = [uploaded_video(av) for _ in range(20)]
        return [inspect_video(anon, video_id)["encoding"] for video_id in ids]

    first = run()
    assert set(first) == {"encoded", "failed"}
    assert faults(anon)["injected"]["encoding_failure"] == first.count("failed")
    anon.post("/_emulator/faults", json={"seed": 2})
    assert run() == first


def test_apivideo_encoding_failure_in_status_and_overrides_win(av, anon, emulator):
    emulator.config.apivideo.encoding_seconds = 0
    emulator.config.apivideo.encoding_failure_rate = 1.0
    video_id = uploaded_video(av)
    qualities = av.get(f"/videos/{video_id}/status").json()["encoding"]["qualities"]
    assert qualities[-1]["status"] == "failed"
    assert inspect_video(anon, video_id)["encoding_failure_injected"] is True
    anon.post(f"/_emulator/apivideo/videos/{video_id}/encoding", json={"outcome": "encoded"})
    assert inspect_video(anon, video_id)["encoding"] == "encoded"


@pytest.mark.parametrize(
    "patch",
    [{"x": {"processing_failure_rate": 1.5}}, {"apivideo": {"encoding_failure_rate": -0.1}},
     {"x": {"processing_failure_rate": "half"}}],
)  # fmt: skip
def test_bad_failure_rates(anon, patch):
    response = anon.patch("/_emulator/config", json=patch)
    assert response.status_code == 400 and "rate" in response.json()["error"]


# -- counters -------------------------------------------------------------------------------------


def test_counters_per_action_and_in_stats(client, anon):
    anon.post(
        "/_emulator/faults",
        json=[
            {"match": "initialize", "status": 500, "times": 2},
            rate_limit_rule("initialize", times=1, retry_after_secs=0),
            {"match": "initialize", "action": "delay", "delay_secs": 0.01, "times": 1},
            {"match": "initialize", "action": "drop", "times": 1},
        ],
    )
    outcomes = []
    for _ in range(6):
        try:
            outcomes.append(client.post("/2/media/upload/initialize", json=INIT_BODY).status_code)
        except httpx.TransportError:
            outcomes.append("dropped")
    assert outcomes == [500, 500, 429, 200, "dropped", 200]
    state = faults(anon)
    assert [rule["hits"] for rule in state["rules"]] == [2, 1, 1, 1]
    assert state["injected"] == {
        "error": 2, "rate_limit": 1, "drop": 1, "delay": 1, "processing_failure": 0, "encoding_failure": 0,
        "vimeo_upload": 0, "vimeo_transcode": 0, "cloudflare_stream_encode": 0, "youtube_failed": 0,
        "youtube_rejected": 0, "youtube_processing_failed": 0, "youtube_short_persist": 0, "youtube_no_range": 0,
        "youtube_rate_limit_403": 0, "gcs_short_persist": 0, "gcs_no_range": 0, "gcs_rate_limit_403": 0,
        "meta_processing": 0, "meta_transient": 0, "meta_wrong_offset": 0, "meta_session_lost": 0,
        "tiktok_failed": 0, "linkedin_processing_failed": 0, "total": 5,
    }  # fmt: skip
    stats = anon.get("/_emulator/stats").json()
    assert stats["faults_injected"] == 5
    # Resetting the stats zeroes the counts, not the rules or their hits.
    assert anon.post("/_emulator/stats/reset").json()["faults_injected"] == 0
    state = faults(anon)
    assert state["injected"]["total"] == 0 and [rule["hits"] for rule in state["rules"]] == [2, 1, 1, 1]
    anon.post("/_emulator/faults", json={"match": "initialize", "times": 1})
    client.post("/2/media/upload/initialize", json=INIT_BODY)
    assert anon.get("/_emulator/stats").json()["faults_injected"] == 1
    anon.post("/_emulator/reset")
    assert faults(anon)["injected"]["total"] == 0 and anon.get("/_emulator/stats").json()["faults_injected"] == 0


# -- posting rules --------------------------------------------------------------------------------


def test_post_forms(anon, emulator):
    single = anon.post("/_emulator/faults", json={"match": "a", "rate": 0.5})
    assert single.status_code == 201
    assert single.json()["match"] == "a" and single.json()["rate"] == 0.5 and single.json()["hits"] == 0
    listed = anon.post("/_emulator/faults", json=[{"match": "b"}, {"match": "c", "action": "delay"}])
    assert listed.status_code == 201 and [r["match"] for r in listed.json()] == ["b", "c"]
    with_preset = anon.post("/_emulator/faults", json={"preset": "chunks:0.1", "seed": 7})
    assert with_preset.status_code == 201
    snapshot = with_preset.json()
    assert snapshot["seed"] == 7 and len(snapshot["rules"]) == 3 + len(CHUNK_FAULT_MIX)
    expected = [FaultRule.from_spec(rule).to_dict() for rule in preset("chunks:0.1", PRESET_TARGETS)]
    assert snapshot["rules"][3:] == [{**rule, "id": 4 + i} for i, rule in enumerate(expected)]
    seeded = anon.post("/_emulator/faults", json={"seed": 99})
    assert seeded.status_code == 200 and seeded.json()["seed"] == 99 and len(seeded.json()["rules"]) == 8


def test_preset_follows_the_live_chunk_path(anon):
    anon.patch("/_emulator/config", json={"content_range": {"chunk_path": "/api/chunked_upload/"}})
    rules = anon.post("/_emulator/faults", json={"preset": "chunks:0.2"}).json()["rules"]
    moved = EmulatorConfig()
    moved.content_range.chunk_path = "/api/chunked_upload/"
    assert all(rule["match"] == chunk_match(all_chunk_targets(APIS, moved)) for rule in rules)
    assert all(re.search(rule["match"], "POST /api/chunked_upload/") for rule in rules)
    assert not any(re.search(rule["match"], f"POST {CHUNK_PATH}") for rule in rules)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"preset": "nope"}, "unknown fault preset 'nope'"),
        ({"preset": "chunks"}, "needs a rate"),
        ({"preset": "chunks:0"}, "0 < RATE <= 1"),
        ({"preset": "chunks:1.5"}, "0 < RATE <= 1"),
        ({"seed": "x"}, "seed must be an integer"),
        ({"seed": True}, "seed must be an integer"),
        ({"foo": 1}, "got foo"),
        ({}, "got an empty object"),
        (5, "faults must be a rule object"),
        ({"rules": {"match": "x"}}, "rules must be a list"),
        ([{"match": "x"}, {"match": "("}], "rule 2: match is not a valid regex"),
        ([{"match": "x"}, "y"], "rule 2: a fault rule must be a JSON object"),
        ({"match": "x", "rate": 0}, "rate must be a number with 0 < rate <= 1"),
        ({"match": "x", "rate": 1.5}, "rate must be"),
        ({"match": "x", "rate": True}, "rate must be"),
        ({"match": "x", "status": []}, "status must be"),
        ({"match": "x", "status": [500, 42]}, "status must be"),
        ({"match": "x", "status": [500, True]}, "status must be"),
        ({"match": "x", "action": "error", "when": "mid_body"}, "mid_body' only goes with action 'drop'"),
        ({"match": "x", "burst": 0}, "burst must be a positive integer"),
        ({"match": "x", "action": "rate_limit", "burst": 3, "times": 2}, "burst must not exceed times"),
        ({"match": "x", "retry_after_secs": -1}, "retry_after_secs must be a non-negative integer"),
        ({"match": "x", "retry_after_secs": 0.5}, "retry_after_secs must be"),
        ({"match": "x", "action": "throttle"}, "action must be one of error, rate_limit, drop, delay"),
        ({"match": "x", "when": "during"}, "when must be one of before, mid_body, after"),
    ],
)
def test_bad_posts_change_nothing(anon, payload, message):
    before = faults(anon)
    response = anon.post("/_emulator/faults", json=payload)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert faults(anon) == before


def test_invalid_json_is_a_400(anon):
    response = anon.post("/_emulator/faults", content=b"[{", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "error" in response.json()


# -- the chunks preset ----------------------------------------------------------------------------

CHUNK_TARGETS = [
    "POST /2/media/upload/1234/append",
    "POST /1.1/media/upload.json APPEND",
    "POST /1.1/media/upload.json?command=APPEND APPEND",
    "POST /videos/vi4blUQJFrYWbaG44NChkH27/source",
    "POST /upload?token=to1tcmSFHeYY5KzyhOqVKMKb",
    f"POST {CHUNK_PATH}",
]
OTHER_TARGETS = [
    "POST /2/media/upload/initialize",
    "POST /2/media/upload/1234/finalize",
    "GET /2/media/upload?command=STATUS&media_id=1234",
    "POST /1.1/media/upload.json INIT",
    "POST /1.1/media/upload.json FINALIZE",
    "GET /1.1/media/upload.json?command=STATUS&media_id=1 STATUS",
    "POST /videos",
    "GET /videos/vi1/status",
    "POST /upload-tokens",
    "POST /auth/api-key",
    "POST /api/v2/media/upload/complete/",
    f"PUT {CHUNK_PATH}",
]


def test_chunks_preset_contents():
    rules = preset("chunks:0.1", PRESET_TARGETS)
    assert [(r["action"], r.get("when", "before")) for r in rules] == [
        ("error", "before"), ("rate_limit", "before"), ("drop", "mid_body"), ("error", "after"), ("delay", "before"),
    ]  # fmt: skip
    assert all(r["times"] == 0 and 0 < r["rate"] <= 0.1 for r in rules)
    assert rules[0]["status"] == rules[3]["status"] == [500, 502, 503]
    assert rules[1]["burst"] == 2 and rules[1]["retry_after_secs"] == 1
    assert 0 < rules[4]["delay_secs"] <= 0.5
    injector = FaultInjector(seed=0)
    injector.add_all(rules)
    for target in CHUNK_TARGETS:
        assert all(rule.matches(target) for rule in injector.rules), target
    for target in OTHER_TARGETS:
        assert not any(rule.matches(target) for rule in injector.rules), target


@pytest.mark.parametrize("rate", [0.05, 0.1, 0.3, 1.0])
def test_chunks_preset_faults_about_its_rate_in_the_mix(rate):
    injector = FaultInjector(seed=1)
    injector.add_all(preset(f"chunks:{rate}", PRESET_TARGETS))
    n = 40_000
    for i in range(n):
        injector.take(CHUNK_TARGETS[i % len(CHUNK_TARGETS)])
    total = injector.injected_total
    assert abs(total / n - rate) < 0.05 * rate + 0.003
    shares = {"error": 0.45, "rate_limit": 0.15, "drop": 0.2, "delay": 0.2}
    for action, share in shares.items():
        assert abs(injector.injected[action] / total - share) < 0.05, action


def test_chunks_preset_upload_survives_with_retries(client, anon):
    """A client that retries what failed ends with the right bytes, whatever the preset injected."""
    anon.post("/_emulator/faults", json={"preset": "chunks:0.3", "seed": 3})
    segments = [random_bytes(20_000) for _ in range(40)]
    media_id = init_v2(client, sum(map(len, segments)))
    for index, segment in enumerate(segments):
        for _ in range(20):
            try:
                if append_v2(client, media_id, index, segment).status_code == 200:
                    break
            except httpx.TransportError:
                pass
        else:
            pytest.fail(f"segment {index} never went through")
    assert client.post(f"/2/media/upload/{media_id}/finalize").status_code == 200
    assert inspect(anon, media_id)["sha256"] == sha256(b"".join(segments))
    injected = faults(anon)["injected"]
    assert injected["total"] >= 8 and sum(injected[a] > 0 for a in ("error", "rate_limit", "drop", "delay")) >= 3
    assert anon.get("/_emulator/stats").json()["faults_injected"] == injected["total"]


# -- --faults SPEC --------------------------------------------------------------------------------


def parse(*argv: str) -> tuple[list[dict], int | None]:
    return faults_from_args(build_parser().parse_args(list(argv)))


def test_cli_spec_forms(tmp_path):
    rule = {"match": "/append", "status": [500, 503], "rate": 0.2, "times": 0}
    assert parse("--faults", json.dumps([rule])) == ([rule], None)
    assert parse("--faults", json.dumps(rule)) == ([rule], None)
    preset_and_seed = json.dumps({"preset": "chunks:0.1", "seed": 4})
    assert parse("--faults", preset_and_seed) == (preset("chunks:0.1", PRESET_TARGETS), 4)
    spec_file = tmp_path / "faults.json"
    spec_file.write_text(json.dumps({"rules": [rule], "seed": 9}))
    assert parse("--faults", f"@{spec_file}") == ([rule], 9)
    assert parse("--faults", "chunks:0.25") == (preset("chunks:0.25", PRESET_TARGETS), None)
    # Repeatable, in order; --fault-seed wins over a SPEC's seed.
    rules, seed = parse("--faults", "chunks:0.1", "--faults", f"@{spec_file}", "--fault-seed", "5")
    assert rules == [*preset("chunks:0.1", PRESET_TARGETS), rule] and seed == 5
    assert parse() == ([], None)
    assert parse("--fault-seed", "0") == ([], 0)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("[{", "--faults is not valid JSON"),
        ("@/nonexistent/faults.json", "cannot read fault file /nonexistent/faults.json"),
        ("chunks:abc", "needs a rate"),
        ("chunks:0", "0 < RATE <= 1"),
        ("chunks:nan", "0 < RATE <= 1"),
        ("burst:0.1", "unknown fault preset 'burst:0.1'"),
        ('[{"match": "x"}, {"match": "x", "action": "nope"}]', "rule 2: action must be one of"),
        ('{"match": "x", "rate": 0}', "rate must be a number with 0 < rate <= 1"),
        ('{"seed": 1.5}', "seed must be an integer"),
        ('"chunks:0.1"', "unknown fault preset"),
    ],
)
def test_cli_spec_errors(capsys, spec, message):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["--faults", spec])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --faults: " in err and message in err


def test_cli_spec_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("chunks:0.1")
    with pytest.raises(ValueError, match=f"{bad} is not valid JSON"):
        parse_fault_spec(f"@{bad}", PRESET_TARGETS)
    with pytest.raises(ValueError, match="rule 1: unknown fault field"):
        parse_fault_spec('[{"match": "x", "oops": 1}, {"match": "y"}]', PRESET_TARGETS)


def test_cli_failure_rate_flags():
    args = build_parser().parse_args(["--x-processing-failure-rate", "0.25", "--apivideo-encoding-failure-rate", "1"])
    config = config_from_args(args)
    assert config.x.processing_failure_rate == 0.25 and config.apivideo.encoding_failure_rate == 1.0


@pytest.mark.parametrize("value", ["1.5", "-0.1", "lots"])
def test_cli_failure_rate_errors(capsys, value):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--x-processing-failure-rate", value])
    assert "expected a number from 0 to 1" in capsys.readouterr().err
