"""Graph video start / transfer / finish on the emulator: windows the server dictates, Graph's errors, status."""

from __future__ import annotations

import json
import os

from .helpers import (
    CONTROL,
    TOKEN,
    VERSION,
    finish,
    graph_error,
    inspect,
    sha256,
    start,
    started,
    transfer,
    upload_all,
)

KIB = 1024


def test_an_upload_follows_the_windows_and_is_byte_exact(graph, anon):
    data = os.urandom(200 * KIB)
    answer, windows = upload_all(graph, data)
    assert answer["start_offset"] == "0" and answer["end_offset"] == str(64 * KIB)  # JSON strings
    assert windows == [[0, 64 * KIB], [64 * KIB, 128 * KIB], [128 * KIB, 192 * KIB], [192 * KIB, 200 * KIB]]
    response = finish(graph, answer["upload_session_id"], title="clip", description="d", published="false")
    assert response.status_code == 200 and response.json() == {"success": True}
    info = inspect(anon, "videos", answer["video_id"])
    assert info["sha256"] == sha256(data) and info["bytes"] == len(data) and info["windows"] == windows
    assert info["kind"] == "advideo" and info["parent"] == "act_7" and info["transfers"] == 4
    assert (info["title"], info["description"], info["published"], info["finished"]) == ("clip", "d", "false", True)


def test_windows_vary_between_answers_when_configured(emulator, graph, anon):
    emulator.config.meta.window_bytes = 40 * KIB
    emulator.config.meta.window_variation = 0.5
    data = os.urandom(150 * KIB)
    answer, windows = upload_all(graph, data)
    assert [end - begin for begin, end in windows] == [40 * KIB, 20 * KIB, 30 * KIB, 40 * KIB, 20 * KIB]
    assert finish(graph, answer["upload_session_id"]).status_code == 200
    assert inspect(anon, "videos", answer["video_id"])["sha256"] == sha256(data)


def test_the_page_videos_path_and_the_token_in_the_form(emulator, plain, anon):
    url = f"{emulator.url}/{VERSION}/1234/videos"
    response = plain.post(url, data={"upload_phase": "start", "file_size": "2048", "access_token": TOKEN,
                                     "appsecret_proof": "ab12"})  # fmt: skip
    assert response.status_code == 200, response.text
    info = inspect(anon, "videos", response.json()["video_id"])
    assert info["kind"] == "page" and info["parent"] == "1234" and info["windows"] == [[0, 2048]]


def test_size_bounds_at_start(emulator, graph):
    error = graph_error(start(graph, 1023))
    assert (error["code"], error["error_subcode"]) == (6000, 1363022) and "1024" in error["message"]
    emulator.config.meta.max_file_size = 4096
    error = graph_error(start(graph, 4097))
    assert (error["code"], error["error_subcode"]) == (6000, 1363023) and "4096" in error["message"]
    assert start(graph, 4096).status_code == 200
    error = graph_error(start(graph, "ten"))
    assert error["code"] == 100 and "file_size" in error["message"]


def test_a_wrong_start_offset_is_1363037_with_the_window_to_resend(graph, anon):
    data = os.urandom(100 * KIB)
    answer = started(graph, len(data))
    session = answer["upload_session_id"]
    assert transfer(graph, session, 0, data[: 64 * KIB]).status_code == 200
    error = graph_error(transfer(graph, session, 0, data[: 64 * KIB]))  # the first window again
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (6001, 1363037, False)
    assert error["error_data"] == {"start_offset": str(64 * KIB), "end_offset": str(100 * KIB)}
    error = graph_error(transfer(graph, session, 64 * KIB, data[64 * KIB : 90 * KIB]))  # right start, short chunk
    assert error["error_subcode"] == 1363037 and "needs" in error["message"]
    response = transfer(graph, session, 64 * KIB, data[64 * KIB :])
    assert response.json() == {"start_offset": str(100 * KIB), "end_offset": str(100 * KIB)}
    assert finish(graph, session).status_code == 200
    info = inspect(anon, "videos", answer["video_id"])
    assert info["sha256"] == sha256(data) and info["transfers"] == 2
    assert anon.get("/_emulator/stats").json()["meta_wrong_offsets"] == 2


def test_queued_faults_transient_partial_wrong_offset_then_lost(graph, anon):
    data = os.urandom(100 * KIB)
    answer = started(graph, len(data))
    session = answer["upload_session_id"]
    queued = anon.post(f"{CONTROL}/transfer-faults", json={"answers": ["transient", "partial", "wrong_offset"]})
    assert queued.json() == {"pending": ["transient", "partial", "wrong_offset"]}
    first = data[: 64 * KIB]
    for subcode in (1363019, 1363033):
        error = graph_error(transfer(graph, session, 0, first))
        assert (error["code"], error["error_subcode"], error["is_transient"]) == (6001, subcode, True)
    error = graph_error(transfer(graph, session, 0, first))
    assert error["error_subcode"] == 1363037 and error["error_data"] == {"start_offset": "0",
                                                                         "end_offset": str(64 * KIB)}  # fmt: skip
    assert transfer(graph, session, 0, first).status_code == 200  # the resend is taken
    anon.post(f"{CONTROL}/transfer-faults", json={"answers": ["session_lost"]})
    error = graph_error(transfer(graph, session, 64 * KIB, data[64 * KIB :]))
    assert (error["code"], error["error_subcode"], error["is_transient"]) == (6000, 1363030, False)
    assert graph_error(transfer(graph, session, 64 * KIB, data[64 * KIB :]))["error_subcode"] == 1363030
    assert graph_error(finish(graph, session))["error_subcode"] == 1363030
    info = inspect(anon, "videos", answer["video_id"])
    assert info["phase"] == "lost" and info["bytes"] == 64 * KIB
    injected = anon.get("/_emulator/faults").json()["injected"]
    assert (injected["meta_transient"], injected["meta_wrong_offset"], injected["meta_session_lost"]) == (2, 1, 1)


def test_fault_rates_are_drawn_per_transfer(emulator, graph, anon):
    answer = started(graph, 2048)
    emulator.config.meta.transient_rate = 1.0
    assert graph_error(transfer(graph, answer["upload_session_id"], 0, b"x" * 2048))["error_subcode"] == 1363019
    emulator.config.meta.transient_rate = 0.0
    emulator.config.meta.wrong_offset_rate = 1.0
    assert graph_error(transfer(graph, answer["upload_session_id"], 0, b"x" * 2048))["error_subcode"] == 1363037
    emulator.config.meta.wrong_offset_rate = 0.0
    emulator.config.meta.session_lost_rate = 1.0
    assert graph_error(transfer(graph, answer["upload_session_id"], 0, b"x" * 2048))["error_subcode"] == 1363030
    injected = anon.get("/_emulator/faults").json()["injected"]
    assert (injected["meta_transient"], injected["meta_wrong_offset"], injected["meta_session_lost"]) == (1, 1, 1)


def test_finish_before_every_byte_is_1363045(graph):
    answer = started(graph, 100 * KIB)
    transfer(graph, answer["upload_session_id"], 0, b"a" * 64 * KIB)
    error = graph_error(finish(graph, answer["upload_session_id"]))
    assert (error["code"], error["error_subcode"]) == (6000, 1363045) and "65536" in error["message"]


def test_refusals_of_the_phases(graph):
    assert graph_error(graph.post("/act_7/advideos", data={"file_size": "2048"}))["code"] == 100
    assert "upload_phase" in graph_error(graph.post("/act_7/advideos", data={"upload_phase": "x"}))["message"]
    assert "upload_session_id" in graph_error(transfer(graph, "", 0, b"x"))["message"]
    assert "no such upload session" in graph_error(transfer(graph, "999", 0, b"x"))["message"]
    answer = started(graph, 2048)
    no_chunk = graph.post("/act_7/advideos", data={"upload_phase": "transfer", "start_offset": "0",
                                                   "upload_session_id": answer["upload_session_id"]})  # fmt: skip
    assert "video_file_chunk" in graph_error(no_chunk)["message"]
    json_body = graph.post("/act_7/advideos", json={"upload_phase": "start"})
    assert "form" in graph_error(json_body)["message"]
    assert graph.get("/act_7/advideos").status_code == 400


def test_tokens(emulator, plain):
    url = f"{emulator.url}/{VERSION}/act_7/advideos"
    form = {"upload_phase": "start", "file_size": "2048"}
    assert graph_error(plain.post(url, data=form))["code"] == 190
    assert "Invalid OAuth" in graph_error(plain.post(url, data=form, params={"access_token": "nope"}))["message"]
    assert plain.post(url, data=form, headers={"Authorization": f"OAuth {TOKEN}"}).status_code == 200


def test_status_runs_processing_to_ready_on_the_clock(emulator, graph, clock):
    emulator.config.meta.processing_secs = 10
    answer, _ = upload_all(graph, os.urandom(3000))
    vid = answer["video_id"]
    before = graph.get(f"/{vid}", params={"fields": "status"}).json()
    assert before["status"]["uploading_phase"] == {"status": "complete"}
    assert before["status"]["processing_phase"] == {"status": "not_started"}
    finish(graph, answer["upload_session_id"])
    clock.advance(5)
    status = graph.get(f"/{vid}", params={"fields": "status"}).json()["status"]
    assert status["video_status"] == "processing" and status["processing_progress"] == 50
    assert status["processing_phase"] == {"status": "in_progress"} and status["publishing_phase"] == {
        "status": "not_started"}  # fmt: skip
    clock.advance(5)
    status = graph.get(f"/{vid}", params={"fields": "status"}).json()
    assert status == {"id": vid, "status": {
        "video_status": "ready", "processing_progress": 100, "uploading_phase": {"status": "complete"},
        "processing_phase": {"status": "complete"}, "publishing_phase": {"status": "complete"}}}  # fmt: skip


def test_processing_can_end_in_error(emulator, graph, anon):
    emulator.config.meta.processing_secs = 0
    emulator.config.meta.processing_failure_rate = 1.0
    answer, _ = upload_all(graph, os.urandom(3000))
    finish(graph, answer["upload_session_id"])
    status = graph.get(f"/{answer['video_id']}", params={"fields": "status"}).json()["status"]
    assert status["video_status"] == "error" and status["processing_phase"] == {"status": "error"}
    assert inspect(anon, "videos", answer["video_id"])["phase"] == "error"
    assert anon.get("/_emulator/faults").json()["injected"]["meta_processing"] == 1


def test_an_unknown_object_is_graph_100_33(graph):
    error = graph_error(graph.get("/424242", params={"fields": "status"}))
    assert (error["code"], error["error_subcode"]) == (100, 33) and "424242" in error["message"]


def test_rate_limit_x_app_usage_then_the_configured_code(emulator, graph, clock):
    emulator.config.meta.rate_limit = 4
    usages = [json.loads(start(graph, 2048).headers["X-App-Usage"])["call_count"] for _ in range(4)]
    assert usages == [25, 50, 75, 100]
    response = start(graph, 2048)
    error = graph_error(response)
    assert (error["code"], error["is_transient"]) == (4, True) and "Application request limit" in error["message"]
    assert json.loads(response.headers["X-App-Usage"]) == {"call_count": 100, "total_cputime": 0, "total_time": 0}
    emulator.config.meta.rate_limit_code = 613
    assert graph_error(start(graph, 2048))["code"] == 613
    clock.advance(3600)
    assert start(graph, 2048).status_code == 200


def test_an_injected_429_is_graphs_throttle_and_rules_single_out_transfers(graph, anon):
    anon.post("/_emulator/faults", json={"match": "advideos", "action": "rate_limit", "times": 1})
    error = graph_error(start(graph, 2048))
    assert error["code"] == 4
    answer = started(graph, 2048)
    anon.post("/_emulator/faults", json={"match": r"advideos\S* transfer$", "status": 503, "times": 1})
    assert finish(graph, answer["upload_session_id"]).status_code == 400  # finish is no transfer: 1363045
    assert transfer(graph, answer["upload_session_id"], 0, b"x" * 2048).status_code == 503
    assert transfer(graph, answer["upload_session_id"], 0, b"x" * 2048).status_code == 200
    preset = anon.post("/_emulator/faults", json={"preset": "chunks:1"}).json()
    assert any("transfer" in rule["match"] for rule in preset["rules"])
    assert start(graph, 2048).status_code == 200  # the preset leaves start alone


def test_page_throttling_adds_business_use_case_usage(emulator, graph, clock):
    emulator.config.meta.rate_limit = 2
    emulator.config.meta.rate_limit_code = 32
    first = start(graph, 2048, "1234/videos")
    assert json.loads(first.headers["X-Business-Use-Case-Usage"]) == {"1234": [{
        "type": "pages", "call_count": 50, "total_cputime": 0, "total_time": 0,
        "estimated_time_to_regain_access": 0}]}  # fmt: skip
    start(graph, 2048, "1234/videos")
    clock.advance(600)
    refused = start(graph, 2048, "1234/videos")
    assert graph_error(refused)["code"] == 32 and "Page request limit" in refused.json()["error"]["message"]
    usage = json.loads(refused.headers["X-Business-Use-Case-Usage"])["1234"][0]
    assert (usage["call_count"], usage["estimated_time_to_regain_access"]) == (100, 50)
    assert "X-Business-Use-Case-Usage" not in graph.get("/1", params={"fields": "status"}).headers


def test_uploads_only_to_permitted_nodes(emulator, graph):
    emulator.config.meta.nodes = ["act_7", "1234"]
    assert start(graph, 2048).status_code == 200 and start(graph, 2048, "1234/videos").status_code == 200
    error = graph_error(start(graph, 2048, "act_8/advideos"))
    assert (error["code"], error["error_subcode"]) == (6000, 1363042) and "act_8" in error["message"]
    assert graph_error(graph.post("/999/video_reels", data={"upload_phase": "start"}))["error_subcode"] == 1363042


def test_an_idle_session_is_lost(emulator, graph, clock):
    emulator.config.meta.session_idle_secs = 60
    answer = started(graph, 100 * KIB)
    session = answer["upload_session_id"]
    clock.advance(59)
    assert transfer(graph, session, 0, b"a" * 64 * KIB).status_code == 200
    clock.advance(59)  # the transfer started the idle time again
    assert transfer(graph, session, 64 * KIB, b"b" * 36 * KIB).status_code == 200
    clock.advance(60)
    assert graph_error(finish(graph, session))["error_subcode"] == 1363030


def test_a_transfer_cut_mid_body_is_counted_as_a_transfer(emulator, graph, anon):
    """The phase is a form field: read from the body's first bytes, it keys the stats even when the body never
    arrives whole (a client killed mid-window), so a bench counting transfers sees the bytes of the cut one."""
    import socket
    from urllib.parse import urlsplit

    from emulator_idle import wait_until_idle

    answer = started(graph, 200 * KIB)
    boundary = "cut"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload_phase\"\r\n\r\ntransfer\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"upload_session_id\"\r\n\r\n"
            f"{answer['upload_session_id']}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"video_file_chunk\"; filename=\"chunk\"\r\n\r\n").encode()
    sent = head + b"\0" * (32 * KIB)
    url = urlsplit(emulator.url)
    with socket.create_connection((url.hostname, url.port)) as raw:
        raw.sendall((f"POST /{VERSION}/act_7/advideos?access_token={TOKEN} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                     f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                     f"Content-Length: {len(head) + 64 * KIB + 100}\r\n\r\n").encode() + sent)
    wait_until_idle(emulator)
    routes = anon.get("/_emulator/stats").json()["routes"]
    cut = routes["POST /{ver}/{node}/advideos transfer"]
    assert cut["requests"] == 1 and cut["body_bytes"] == len(sent) and set(cut["statuses"]) == {"disconnected"}
    assert "POST /{ver}/{node}/advideos" not in routes  # no request counted without its phase
