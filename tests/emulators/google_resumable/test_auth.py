"""Google OAuth stand-in: ``POST /token`` and the Bearer checks of both front doors (401/403 in Google's shape)."""

from __future__ import annotations

import os

import pytest

from .helpers import ALIGN, GCS_AUTH, YOUTUBE_AUTH, gcs_start, persisted, put, query, yt_session, yt_start

REFRESH = {"grant_type": "refresh_token", "client_id": "chunkup-client", "client_secret": "chunkup-secret",
           "refresh_token": "chunkup-refresh"}  # fmt: skip


def fresh_token(google, **form: str) -> dict:
    answer = google.post("/token", data={**REFRESH, **form})
    assert answer.status_code == 200, answer.text
    return answer.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_refresh_token_buys_an_access_token_both_front_doors_take(google):
    grant = fresh_token(google)
    assert grant["token_type"] == "Bearer" and grant["expires_in"] == 3600
    assert "https://www.googleapis.com/auth/youtube.upload" in grant["scope"].split()
    token = grant["access_token"]
    assert yt_start(google, token=token).status_code == 200
    started = google.post("/upload/storage/v1/b/media/o", params={"uploadType": "resumable", "name": "x"},
                          headers=bearer(token))  # fmt: skip
    assert started.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"refresh_token": "revoked"}, "invalid_grant"),
        ({"client_secret": "wrong"}, "invalid_grant"),
        ({"client_id": "stranger"}, "invalid_grant"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"scope": "https://www.googleapis.com/auth/drive"}, "invalid_scope"),
    ],
)  # fmt: skip
def test_token_refusals(google, form, error):
    answer = google.post("/token", data={**REFRESH, **form})
    assert answer.status_code == 400 and answer.json()["error"] == error


def test_configured_clients_and_their_scopes(google, emulator):
    emulator.config.youtube.oauth_clients = {"uploader": {"secret": "s", "refresh_tokens": ["r"],
                                                          "scopes": ["https://www.googleapis.com/auth/youtube.upload"]}}
    grant = fresh_token(google, client_id="uploader", client_secret="s", refresh_token="r")
    assert grant["scope"] == "https://www.googleapis.com/auth/youtube.upload"
    assert google.post("/token", data=REFRESH).json()["error"] == "invalid_grant"  # the default client is gone
    token = grant["access_token"]
    assert yt_start(google, token=token).status_code == 200
    # youtube.upload alone cannot poll processing, nor write to Cloud Storage.
    listed = google.get("/youtube/v3/videos", params={"part": "status", "id": "x"}, headers=bearer(token))
    assert listed.status_code == 403
    error = listed.json()["error"]
    assert error["errors"][0]["reason"] == "insufficientPermissions" and error["status"] == "PERMISSION_DENIED"
    started = google.post("/upload/storage/v1/b/media/o", params={"uploadType": "resumable", "name": "x"},
                          headers=bearer(token))  # fmt: skip
    assert started.status_code == 403


def test_a_narrower_scope_may_be_asked_for(google):
    grant = fresh_token(google, scope="https://www.googleapis.com/auth/devstorage.read_write")
    assert yt_start(google, token=grant["access_token"]).status_code == 403
    assert gcs_start(google).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic eW91dHViZS10b2tlbg==", "Bearer ya29.forged.sig"])
def test_requests_without_a_valid_token_are_401_in_googles_shape(google, header):
    headers = {} if header is None else {"Authorization": header}
    for answer in (google.post("/upload/youtube/v3/videos", params={"uploadType": "resumable", "part": "snippet"},
                               headers=headers, json={}),
                   google.get("/youtube/v3/videos", params={"part": "status", "id": "x"}, headers=headers),
                   google.post("/upload/storage/v1/b/media/o", params={"uploadType": "resumable", "name": "x"},
                               headers=headers),
                   google.get("/storage/v1/b/media/o/x", headers=headers)):  # fmt: skip
        assert answer.status_code == 401
        error = answer.json()["error"]
        assert error["code"] == 401 and error["status"] == "UNAUTHENTICATED"
        assert error["errors"][0]["reason"] == "authError" and error["errors"][0]["domain"] == "global"


def test_fixed_tokens_belong_to_their_front_door(google):
    assert gcs_start(google).status_code == 200
    wrong = google.post("/upload/storage/v1/b/media/o", params={"uploadType": "resumable", "name": "x"},
                        headers=YOUTUBE_AUTH)  # fmt: skip
    assert wrong.status_code == 401
    assert yt_start(google, token="gcs-token").status_code == 401
    assert google.get("/storage/v1/b/media/o/x", headers=GCS_AUTH).status_code == 404


def test_an_issued_token_expires_mid_upload_and_a_new_one_goes_on(google, emulator, clock):
    emulator.config.youtube.access_token_secs = 60
    data = os.urandom(ALIGN * 2)
    old = fresh_token(google)["access_token"]
    url = yt_session(google, total=len(data), token=old)
    assert persisted(put(google, url, data[:ALIGN], 0, len(data), headers=bearer(old))) == ALIGN
    clock.advance(61)
    expired = put(google, url, data[ALIGN:], ALIGN, len(data), headers=bearer(old))
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    assert persisted(query(google, url)) == ALIGN  # no token needed on the session URI; nothing was kept
    new = fresh_token(google)["access_token"]
    assert put(google, url, data[ALIGN:], ALIGN, len(data), headers=bearer(new)).status_code == 201
    # The fixed tokens never expire.
    clock.advance(10 * 86400)
    assert yt_start(google).status_code == 200
