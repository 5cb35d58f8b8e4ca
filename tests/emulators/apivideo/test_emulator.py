"""api.video against the emulator over real HTTP: authentication, videos, status and encoding,
upload tokens, rate limits, and the emulator's control endpoints for api.video."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import httpx
import pytest

from airflow_provider_chunkup.emulators.apivideo import ApiVideoEmulatorConfig
from airflow_provider_chunkup.emulators.apivideo.upload import SourceUpload
from airflow_provider_chunkup.emulators.apivideo.videos import Video, VideoStore
from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args

from ..support import (
    APIVIDEO_DOCS,
    APIVIDEO_KEY,
    APIVIDEO_MIN_CHUNK,
    apivideo_basic,
    assert_apivideo_error,
    create_video,
    inspect_video,
    random_bytes,
    split,
    upload_chunk,
    upload_parts,
)

CHUNK = APIVIDEO_MIN_CHUNK
VIDEO_ID = re.compile(r"^vi[A-Za-z0-9]{22}$")
SOURCE_ROUTE = "POST /videos/{videoId}/source"
QUALITIES = ["240p", "360p", "480p", "720p", "1080p"]


def get_token(anon: httpx.Client, key: str = APIVIDEO_KEY) -> dict:
    response = anon.post("/auth/api-key", json={"apiKey": key})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- authentication -------------------------------------------------------------------------------


def test_basic_auth(anon):
    assert anon.post("/videos", json={"title": "t"}, headers=apivideo_basic()).status_code == 201
    # The key alone (no colon) is accepted too: the password is not checked.
    key_only = {"Authorization": "Basic " + base64.b64encode(APIVIDEO_KEY.encode()).decode()}
    assert anon.post("/videos", json={"title": "t"}, headers=key_only).status_code == 201


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, "authentication-missing-authorization-header"),
        (apivideo_basic("wrong-key"), "authentication-invalid-api-key"),
        ({"Authorization": "Basic !!!"}, "authentication-invalid-authorization-header-value"),
        ({"Authorization": "Token abc"}, "authentication-invalid-authorization-header-value"),
        ({"Authorization": "Bearer"}, "authentication-invalid-authorization-header-value"),
        (bearer("not-a-token"), "authentication-invalid-access-token"),
        (bearer(APIVIDEO_KEY), "authentication-invalid-access-token"),  # the key is no bearer token
    ],
)
def test_auth_failures(anon, headers, kind):
    response = anon.get("/videos/viANY", headers=headers)
    assert_apivideo_error(response, 401, kind, "Authorization")
    assert response.headers["X-RateLimit-Limit"] == "500"


def test_bearer_token_refresh_and_expiry(anon):
    pair = get_token(anon)
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 3600
    assert pair["access_token"] != pair["refresh_token"] and len(pair["access_token"]) > 20
    assert anon.post("/videos", json={"title": "b"}, headers=bearer(pair["access_token"])).status_code == 201

    # Control endpoint: every access token expires now; the client must refresh on the 401.
    assert anon.post("/_emulator/apivideo/tokens/expire").json() == {"expired": 1}
    expired = anon.post("/videos", json={"title": "b"}, headers=bearer(pair["access_token"]))
    assert_apivideo_error(expired, 401, "authentication-invalid-access-token", "Authorization")
    renewed = anon.post("/auth/refresh", json={"refreshToken": pair["refresh_token"]})
    assert renewed.status_code == 200
    new = renewed.json()
    assert new["access_token"] != pair["access_token"] and new["refresh_token"] != pair["refresh_token"]
    assert anon.post("/videos", json={"title": "b"}, headers=bearer(new["access_token"])).status_code == 201
    # A refresh token is spent once used.
    again = anon.post("/auth/refresh", json={"refreshToken": pair["refresh_token"]})
    assert_apivideo_error(again, 400, "authentication-invalid-refresh-token", "refreshToken")


def test_token_lifetime_and_revoked_key(anon, emulator):
    emulator.config.apivideo.access_token_ttl_secs = 0
    pair = get_token(anon)
    assert pair["expires_in"] == 0
    assert anon.get("/videos/viNONE", headers=bearer(pair["access_token"])).status_code == 401
    emulator.config.apivideo.access_token_ttl_secs = 3600
    fresh = get_token(anon)
    assert anon.get("/videos/viNONE", headers=bearer(fresh["access_token"])).status_code == 404
    emulator.config.apivideo.api_keys = {"another-key"}  # the key behind the token is gone
    assert anon.get("/videos/viNONE", headers=bearer(fresh["access_token"])).status_code == 401


def test_auth_endpoint_refusals(anon):
    wrong = anon.post("/auth/api-key", json={"apiKey": "nope"})
    body = assert_apivideo_error(wrong, 400, "authentication-invalid-user-credentials")
    assert body["title"] == "The user credentials were incorrect." and body["name"] == ""
    assert_apivideo_error(anon.post("/auth/api-key", json={}), 400, "attribute-required", "apiKey")
    assert_apivideo_error(anon.post("/auth/api-key", json={"apiKey": 1}), 400, "invalid-attribute", "apiKey")
    assert_apivideo_error(anon.post("/auth/api-key", content=b"{nope"), 400, "invalid-payload")
    unknown = anon.post("/auth/refresh", json={"refreshToken": "x"})
    assert_apivideo_error(unknown, 400, "authentication-invalid-refresh-token")


# -- videos ---------------------------------------------------------------------------------------


def test_create_get_delete_video(av, anon, emulator):
    payload = {
        "title": "Maths video",
        "description": "string theory",
        "tags": ["maths", "video"],
        "metadata": [{"key": "Author", "value": "John Doe"}],
        "public": False,
        "panoramic": True,
        "playerId": "pl45KFKdlddgk654dspkze",
        "language": "en",
        "transcript": True,
    }
    created = av.post("/videos", json=payload)
    assert created.status_code == 201
    assert created.headers["X-RateLimit-Limit"] == "200"  # the write bucket
    video = created.json()
    video_id = video["videoId"]
    assert VIDEO_ID.match(video_id)
    for name in ("title", "description", "tags", "metadata", "public", "panoramic", "playerId", "language"):
        assert video[name] == payload[name], name
    assert video["mp4Support"] is True and video["languageOrigin"] == "api"
    assert video["source"] == {"uri": f"/videos/{video_id}/source"}
    assert video["createdAt"].endswith("+00:00") and video["updatedAt"] == video["createdAt"]
    base = f"{emulator.url}/_emulator/apivideo"
    assert video["assets"] == {
        "iframe": video["assets"]["iframe"],
        "player": f"{base}/embed/vod/{video_id}",
        "hls": f"{base}/vod/{video_id}/hls/manifest.m3u8",
        "thumbnail": f"{base}/vod/{video_id}/thumbnail.jpg",
        "mp4": f"{base}/vod/{video_id}/mp4/source.mp4",
    }
    assert video["assets"]["player"] in video["assets"]["iframe"]

    fetched = av.get(f"/videos/{video_id}")
    assert fetched.status_code == 200 and fetched.json() == video
    assert fetched.headers["X-RateLimit-Limit"] == "500"  # the read bucket

    upload_chunk(av, video_id, b"bytes")
    path = Path(inspect_video(anon, video_id)["path"])
    assert path.read_bytes() == b"bytes"
    assert av.delete(f"/videos/{video_id}").status_code == 204
    assert not path.exists()
    assert_apivideo_error(av.get(f"/videos/{video_id}"), 404, "resource-not-found", "videoId")
    assert_apivideo_error(av.delete(f"/videos/{video_id}"), 404, "resource-not-found", "videoId")
    assert_apivideo_error(av.get(f"/videos/{video_id}/status"), 404, "resource-not-found", "videoId")
    info = inspect_video(anon, video_id)
    assert info["deleted"] is True and info["path"] is None


def test_video_defaults_and_no_mp4(av):
    video = av.post("/videos", json={"title": "plain", "mp4Support": False}).json()
    assert video["public"] is True and video["panoramic"] is False and video["mp4Support"] is False
    assert video["description"] == "" and video["tags"] == [] and video["metadata"] == []
    assert "mp4" not in video["assets"] and "playerId" not in video


@pytest.mark.parametrize(
    ("body", "kind", "name"),
    [
        ({}, "attribute-required", "title"),
        ({"description": "no title"}, "attribute-required", "title"),
        ({"title": "t", "colour": "red"}, "invalid-attribute", "colour"),
        ({"title": 5}, "invalid-attribute", "title"),
        ({"title": "t", "public": "yes"}, "invalid-attribute", "public"),
        ({"title": "t", "tags": "a,b"}, "invalid-attribute", "tags"),
        ({"title": "t", "tags": [1]}, "invalid-attribute", "tags"),
        ({"title": "t", "metadata": [{"key": "k"}]}, "invalid-attribute", "metadata"),
        ({"title": "t", "mp4Support": 1}, "invalid-attribute", "mp4Support"),
    ],
)
def test_create_video_refusals(av, body, kind, name):
    assert_apivideo_error(av.post("/videos", json=body), 400, kind, name)


def test_create_video_needs_a_json_object(av):
    assert_apivideo_error(av.post("/videos", content=b"not json"), 400, "invalid-payload")
    assert_apivideo_error(av.post("/videos", json=["title"]), 400, "invalid-payload")


# -- status and encoding --------------------------------------------------------------------------


def test_status_before_any_upload(av):
    video_id = create_video(av)
    body = av.get(f"/videos/{video_id}/status").json()
    assert body["ingest"] == {"status": "uploading", "filesize": None, "receivedBytes": []}
    assert body["encoding"]["playable"] is False and body["encoding"]["qualities"] == []
    assert set(body["encoding"]["metadata"]) >= {"width", "height", "duration", "videoCodec", "aspectRatio"}


def test_encoding_follows_the_clock():
    config = ApiVideoEmulatorConfig(encoding_seconds=4.0, playable_after_secs=1.0)
    store = VideoStore(storage=None, config=lambda: config)  # type: ignore[arg-type]
    video = Video(id="vi1", title="t", created_at=0.0, seq=0, upload=SourceUpload(), completed_at=100.0)

    def hls(at: float) -> list[str]:
        return [q["status"] for q in store.qualities(video, now=100.0 + at) if q["type"] == "hls"]

    assert hls(0.0) == ["encoding", "waiting", "waiting", "waiting", "waiting"]
    assert hls(0.99) == ["encoding", "waiting", "waiting", "waiting", "waiting"]
    assert hls(1.0) == ["encoded", "encoding", "waiting", "waiting", "waiting"]
    assert hls(2.5) == ["encoded", "encoded", "encoded", "encoding", "waiting"]
    assert hls(3.99) == ["encoded", "encoded", "encoded", "encoded", "encoding"]
    assert hls(4.0) == ["encoded"] * 5
    assert not store.encoding_state(video, now=100.5)["playable"]
    assert store.encoding_state(video, now=101.0)["playable"]
    mp4 = [q for q in store.qualities(video, now=104.0) if q["type"] == "mp4"]
    assert [q["quality"] for q in mp4] == QUALITIES
    video.mp4_support = False
    assert {q["type"] for q in store.qualities(video, now=104.0)} == {"hls"}
    config.encoding_outcome = "failed"
    assert hls(3.99)[-1] == "encoding" and hls(4.0) == ["encoded"] * 4 + ["failed"]
    video.encoding_override = "encoded"
    assert hls(4.0) == ["encoded"] * 5
    video.completed_at = None
    assert store.qualities(video) == []


def test_status_progresses_to_playable_and_encoded(av, emulator, clock):
    emulator.config.apivideo.encoding_seconds = 0.6
    emulator.config.apivideo.playable_after_secs = 0.2
    video_id = create_video(av)
    upload_parts(av, video_id, random_bytes(2 * CHUNK), CHUNK)
    seen = []
    for _ in range(20):  # 0.05 s of the emulator's clock a step: encoded after 12 or 13
        encoding = av.get(f"/videos/{video_id}/status").json()["encoding"]
        seen.append((encoding["playable"], {q["status"] for q in encoding["qualities"]}))
        if encoding["qualities"] and {q["status"] for q in encoding["qualities"]} == {"encoded"}:
            break
        clock.advance(0.05)
    assert seen[0] == (False, {"encoding", "waiting"})
    assert seen[-1] == (True, {"encoded"})
    assert any(playable and "encoding" in statuses for playable, statuses in seen)
    assert len(encoding["qualities"]) == 10  # hls and mp4


def test_failed_encoding(av, anon, emulator):
    emulator.config.apivideo.encoding_seconds = 0
    emulator.config.apivideo.encoding_outcome = "failed"
    video_id = create_video(av)
    upload_chunk(av, video_id, b"video")
    encoding = av.get(f"/videos/{video_id}/status").json()["encoding"]
    assert encoding["playable"] is True
    failed = [(q["type"], q["quality"]) for q in encoding["qualities"] if q["status"] == "failed"]
    assert failed == [("hls", "1080p"), ("mp4", "1080p")]
    assert inspect_video(anon, video_id)["encoding"] == "failed"
    # A per-video override wins over the config.
    override = anon.post(f"/_emulator/apivideo/videos/{video_id}/encoding", json={"outcome": "encoded"})
    assert override.status_code == 200 and override.json()["encoding"] == "encoded"
    statuses = {q["status"] for q in av.get(f"/videos/{video_id}/status").json()["encoding"]["qualities"]}
    assert statuses == {"encoded"}


def test_assets_follow_encoding(av, anon, emulator, clock):
    emulator.config.apivideo.encoding_seconds = 0.3
    emulator.config.apivideo.playable_after_secs = 0.3
    video = av.post("/videos", json={"title": "assets"}).json()
    manifest, mp4 = video["assets"]["hls"], video["assets"]["mp4"]
    assert anon.get(manifest).status_code == 202
    upload_chunk(av, video["videoId"], b"the bytes")
    assert anon.get(manifest).status_code == 202
    assert anon.get(mp4).status_code == 404
    clock.advance(0.35)
    playlist = anon.get(manifest)
    assert playlist.status_code == 200 and playlist.text.startswith("#EXTM3U") and "1080p" in playlist.text
    assert anon.get(mp4).content == b"the bytes"


# -- upload tokens --------------------------------------------------------------------------------


def test_upload_token_lifecycle(av):
    forever = av.post("/upload-tokens", json={})
    assert forever.status_code == 200
    body = forever.json()
    assert re.match(r"^to[A-Za-z0-9]{22}$", body["token"])
    assert body["ttl"] == 0 and body["expiresAt"] is None and body["createdAt"].endswith("+00:00")
    timed = av.post("/upload-tokens", json={"ttl": 3600}).json()
    assert timed["ttl"] == 3600 and timed["expiresAt"] > timed["createdAt"]
    assert av.get(f"/upload-tokens/{timed['token']}").json() == timed
    assert av.delete(f"/upload-tokens/{timed['token']}").status_code == 204
    assert_apivideo_error(av.get(f"/upload-tokens/{timed['token']}"), 404, "resource-not-found", "uploadToken")
    assert_apivideo_error(av.delete(f"/upload-tokens/{timed['token']}"), 404, "resource-not-found", "uploadToken")
    for bad in ({"ttl": -1}, {"ttl": "60"}, {"ttl": 2**31}, {"ttl": True}):
        assert_apivideo_error(av.post("/upload-tokens", json=bad), 400, "invalid-attribute", "ttl")
    assert_apivideo_error(av.post("/upload-tokens", json={"tll": 5}), 400, "invalid-attribute", "tll")


def test_upload_token_routes_need_the_api_key(anon):
    assert anon.post("/upload-tokens", json={}).status_code == 401


# -- rate limits ----------------------------------------------------------------------------------


def test_rate_limit_headers_and_429(av, emulator):
    emulator.config.apivideo.upload_rate_limit = 2
    video_id = create_video(av)
    first = upload_chunk(av, video_id, b"x" * CHUNK, "part 1/3")
    assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    assert 0 < int(first.headers["X-RateLimit-Retry-After"]) <= 60
    upload_chunk(av, video_id, b"x" * CHUNK, "part 2/3")
    limited = upload_chunk(av, video_id, b"x", "part 3/3")
    assert limited.status_code == 429
    assert limited.json() == {"type": APIVIDEO_DOCS + "too-many-requests", "title": "Too many requests.", "status": 429}
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(limited.headers["X-RateLimit-Retry-After"]) <= 60
    # Other buckets are unaffected.
    assert av.get(f"/videos/{video_id}/status").json()["ingest"]["receivedParts"]["parts"] == [1, 2]
    assert av.post("/videos", json={"title": "w"}).status_code == 201


def test_rate_limit_window_resets(av, emulator, clock):
    emulator.config.apivideo.read_rate_limit = 1
    emulator.config.apivideo.rate_limit_window_secs = 0.5
    video_id = create_video(av)
    assert av.get(f"/videos/{video_id}").status_code == 200
    limited = av.get(f"/videos/{video_id}")
    assert limited.status_code == 429 and limited.headers["X-RateLimit-Retry-After"] == "1"  # 0.5 s, rounded up
    clock.advance(0.55)
    assert av.get(f"/videos/{video_id}").status_code == 200


# -- emulator control -----------------------------------------------------------------------------


def test_stats_prove_a_resume_sent_only_missing_parts(av, anon):
    part = random_bytes(10_000)
    video_id = create_video(av)
    for number in (1, 3):
        upload_chunk(av, video_id, part, f"part {number}/4")
    anon.post("/_emulator/stats/reset")
    have = av.get(f"/videos/{video_id}/status").json()["ingest"]["receivedParts"]["parts"]
    for number in sorted({1, 2, 3, 4} - set(have)):
        assert upload_chunk(av, video_id, part, f"part {number}/4").status_code == 201
    routes = anon.get("/_emulator/stats").json()["routes"]
    source = routes[SOURCE_ROUTE]
    assert source["requests"] == 2 and source["statuses"] == {"201": 2}
    assert 2 * len(part) <= source["body_bytes"] < 2 * len(part) + 1000  # + multipart framing
    assert routes["GET /videos/{videoId}/status"]["requests"] == 1
    assert inspect_video(anon, video_id)["complete"]


def test_faults_on_api_video_paths(av, anon):
    video_id = create_video(av)
    anon.post("/_emulator/faults", json={"match": r"^POST /videos/vi\w+/source$", "status": 503})
    assert upload_chunk(av, video_id, b"x").status_code == 503
    assert inspect_video(anon, video_id)["mode"] is None
    anon.post("/_emulator/faults", json={"match": "/source", "action": "drop", "when": "after"})
    with pytest.raises(httpx.RemoteProtocolError):
        upload_chunk(av, video_id, b"stored anyway")
    assert inspect_video(anon, video_id)["complete"]
    routes = anon.get("/_emulator/stats").json()["routes"]
    # Faults before and after the handler are both counted under the route.
    assert routes[SOURCE_ROUTE]["statuses"] == {"503": 1, "dropped": 1}
    assert f"POST /videos/{video_id}/source" not in routes


def test_reset_forgets_api_video(av, anon, emulator):
    video_id = create_video(av)
    upload_chunk(av, video_id, b"x")
    path = Path(inspect_video(anon, video_id)["path"])
    token = av.post("/upload-tokens", json={}).json()["token"]
    access = get_token(anon)["access_token"]
    anon.patch("/_emulator/config", json={"apivideo": {"upload_rate_limit": 1}})
    assert anon.post("/_emulator/reset").json() == {"ok": True}
    assert anon.get("/_emulator/apivideo/videos").json() == []
    assert not path.exists()
    assert emulator.config.apivideo.upload_rate_limit == 100
    assert av.get(f"/upload-tokens/{token}").status_code == 404
    assert anon.get("/videos/viX", headers=bearer(access)).status_code == 401


def test_control_endpoint_refusals(anon, av):
    assert anon.get("/_emulator/apivideo/videos/viNOPE").status_code == 404
    assert anon.post("/_emulator/apivideo/videos/viNOPE/encoding", json={"outcome": "failed"}).status_code == 404
    video_id = create_video(av)
    assert anon.post(f"/_emulator/apivideo/videos/{video_id}/encoding", json={"outcome": "meh"}).status_code == 400
    assert anon.post(f"/_emulator/apivideo/videos/{video_id}/encoding", json={"bogus": 1}).status_code == 400


def test_config_patch(anon, emulator):
    config = anon.get("/_emulator/config").json()["apivideo"]
    assert config["api_keys"] == [APIVIDEO_KEY] and config["qualities"] == QUALITIES
    assert config["min_chunk_bytes"] == 5 * 1024 * 1024 and config["max_chunk_bytes"] == 200 * 1024 * 1024
    patch = {"apivideo": {"qualities": ["360p", "2160p"], "api_keys": ["k1"], "encoding_seconds": 1}}
    assert anon.patch("/_emulator/config", json=patch).status_code == 200
    apivideo = emulator.config.apivideo
    assert apivideo.qualities == ["360p", "2160p"] and apivideo.api_keys == {"k1"}
    assert apivideo.encoding_seconds == 1.0
    for bad in (
        {"encoding_outcome": "exploded"},
        {"qualities": ["4k"]},
        {"qualities": []},
        {"qualities": ["240p", "240p"]},
        {"max_chunk_bytes": 0},
        {"min_chunk_bytes": -1},
        {"rate_limit_window_secs": 0},
        {"no_such": 1},
    ):
        before = anon.get("/_emulator/config").json()
        assert anon.patch("/_emulator/config", json={"apivideo": bad}).status_code == 400, bad
        assert anon.get("/_emulator/config").json() == before


def test_cli_options():
    args = build_parser().parse_args(
        ["--apivideo-key", "a", "--apivideo-key", "b", "--apivideo-encoding-seconds", "0.5", "--apivideo-encoding-fail"]
    )
    apivideo = config_from_args(args).apivideo
    assert apivideo.api_keys == {"a", "b"}
    assert apivideo.encoding_seconds == 0.5 and apivideo.encoding_outcome == "failed"
    defaults = config_from_args(build_parser().parse_args([])).apivideo
    assert defaults.api_keys == {APIVIDEO_KEY} and defaults.encoding_outcome == "encoded"


def test_parts_of_a_deleted_upload_leave_no_files(av, anon, emulator):
    video_id = create_video(av)
    for number, chunk in enumerate(split(random_bytes(2 * CHUNK), CHUNK), start=1):
        upload_chunk(av, video_id, chunk, f"part {number}/3")
    av.delete(f"/videos/{video_id}")
    directory = Path(emulator.config.data_dir) / "apivideo"
    deadline = time.monotonic() + 30  # a background copy in flight cleans up after itself when it ends
    while (left := list(directory.glob(f"{video_id}*"))) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert left == []
