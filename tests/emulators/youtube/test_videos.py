"""videos.list and videos.delete: processing advancing on the emulator's clock, its faults, the units quota."""

from __future__ import annotations

import pytest

from ..google_resumable.helpers import YOUTUBE_AUTH, YT_CONTROL
from .helpers import listed, one, uploaded


def test_processing_advances_with_progress_as_strings(google, emulator, clock):
    emulator.config.youtube.processing_secs = 10
    video = uploaded(google)
    item = one(google, video["id"])
    assert item["kind"] == "youtube#video" and set(item) == {"kind", "etag", "id", "status", "processingDetails"}
    assert item["status"]["uploadStatus"] == "uploaded"
    details = item["processingDetails"]
    assert details["processingStatus"] == "processing"
    assert details["processingProgress"] == {"partsTotal": "1000", "partsProcessed": "0", "timeLeftMs": "10000"}
    clock.advance(4)
    progress = one(google, video["id"])["processingDetails"]["processingProgress"]
    assert progress == {"partsTotal": "1000", "partsProcessed": "400", "timeLeftMs": "6000"}
    clock.advance(6)
    item = one(google, video["id"])
    assert item["status"]["uploadStatus"] == "processed"
    assert item["processingDetails"]["processingStatus"] == "succeeded"
    assert "processingProgress" not in item["processingDetails"]


def test_list_answers_known_ids_only_and_the_parts_asked(google):
    first, second = uploaded(google), uploaded(google)
    answer = listed(google, first["id"], "unknown0000", second["id"], part="snippet")
    body = answer.json()
    assert body["kind"] == "youtube#videoListResponse" and body["pageInfo"]["totalResults"] == 2
    assert [item["id"] for item in body["items"]] == [first["id"], second["id"]]
    assert all(set(item) == {"kind", "etag", "id", "snippet"} for item in body["items"])
    assert listed(google, "unknown0000").json()["items"] == []


@pytest.mark.parametrize(("params", "reason"), [({"part": "status"}, "missingRequiredParameter"),
                                                ({"part": "fileDetails", "id": "x"}, "unknownPart"),
                                                ({"id": "x"}, "unknownPart")])  # fmt: skip
def test_list_refusals(google, params, reason):
    answer = google.get("/youtube/v3/videos", params=params, headers=YOUTUBE_AUTH)
    assert answer.status_code == 400 and answer.json()["error"]["errors"][0]["reason"] == reason


@pytest.mark.parametrize(
    ("rates", "status", "details", "kind"),
    [
        ({"failure_rate": 1.0, "failure_reason": "codec"},
         {"uploadStatus": "failed", "failureReason": "codec"},
         {"processingStatus": "failed", "processingFailureReason": "uploadFailed"}, "youtube_failed"),
        ({"rejection_rate": 1.0, "rejection_reason": "copyright"},
         {"uploadStatus": "rejected", "rejectionReason": "copyright"},
         {"processingStatus": "succeeded"}, "youtube_rejected"),
        ({"processing_failure_rate": 1.0},
         {"uploadStatus": "processed"},
         {"processingStatus": "failed", "processingFailureReason": "transcodeFailed"}, "youtube_processing_failed"),
    ],
)  # fmt: skip
def test_faults_show_once_processing_time_is_over(google, anon, emulator, clock, rates, status, details, kind):
    for name, value in rates.items():
        setattr(emulator.config.youtube, name, value)
    video = uploaded(google)
    assert one(google, video["id"])["processingDetails"]["processingStatus"] == "processing"
    clock.advance(emulator.config.youtube.processing_secs)
    item = one(google, video["id"])
    assert {k: item["status"][k] for k in status} == status
    assert {k: item["processingDetails"][k] for k in details} == details
    injected = anon.get("/_emulator/faults").json()["injected"]
    assert injected[kind] == 1 and injected["total"] == 1


def test_an_empty_upload_fails_as_empty_file(google, emulator, clock):
    video = uploaded(google, b"")
    clock.advance(emulator.config.youtube.processing_secs)
    status = one(google, video["id"])["status"]
    assert status["uploadStatus"] == "failed" and status["failureReason"] == "emptyFile"


def test_delete_is_204_then_the_video_is_gone(google):
    video = uploaded(google)
    params = {"id": video["id"]}
    assert google.delete("/youtube/v3/videos", params=params, headers=YOUTUBE_AUTH).status_code == 204
    assert listed(google, video["id"]).json()["items"] == []
    again = google.delete("/youtube/v3/videos", params=params, headers=YOUTUBE_AUTH)
    assert again.status_code == 404 and again.json()["error"]["errors"][0]["reason"] == "videoNotFound"
    info = google.get(f"{YT_CONTROL}/videos/{video['id']}").json()
    assert info["deleted"] is True
    stats = google.get("/_emulator/stats").json()
    assert stats["youtube_videos"] == 0 and stats["youtube_videos_deleted"] == 1 and stats["youtube_units_used"] == 51


def test_the_units_quota_refuses_list_calls_once_used_up(google, emulator):
    emulator.config.youtube.units_quota = 2
    video = uploaded(google)
    assert [listed(google, video["id"]).status_code for _ in range(3)] == [200, 200, 403]
    assert listed(google, video["id"]).json()["error"]["errors"][0]["reason"] == "quotaExceeded"
