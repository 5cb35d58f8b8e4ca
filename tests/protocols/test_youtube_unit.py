"""YouTube's video resource checked before any request, and its processing states with the reasons verbatim."""

import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.youtube import processing_status, video_resource


def test_resource_from_options():
    resource = video_resource({"title": "Launch", "description": "d", "tags": ["a", "b c"], "category_id": 22,
                               "privacy_status": "private", "publish_at": "2031-01-01T10:00:00Z",
                               "made_for_kids": False, "license": "creativeCommon", "snippet": {"x": 1}})
    assert resource == {
        "snippet": {"x": 1, "title": "Launch", "description": "d", "tags": ["a", "b c"], "categoryId": "22"},
        "status": {"privacyStatus": "private", "publishAt": "2031-01-01T10:00:00Z", "license": "creativeCommon",
                   "selfDeclaredMadeForKids": False}}


def test_title_defaults_to_the_file_name_and_privacy_to_private():
    assert video_resource({}, "clip.mp4") == {"snippet": {"title": "clip.mp4"}, "status": {"privacyStatus": "private"}}


@pytest.mark.parametrize("options, match", [
    ({"title": "x" * 101}, "1 to 100 characters"),
    ({"title": "a <b>"}, "without < or >"),
    ({"title": "t", "description": "é" * 2501}, "5000 bytes"),
    ({"title": "t", "tags": ["x" * 501]}, "total 500 characters"),
    ({"title": "t", "tags": "a,b"}, "list of text"),
    ({"title": "t", "category_id": "music"}, "category number"),
    ({"title": "t", "privacy_status": "friends"}, "public, unlisted, private"),
    ({"title": "t", "privacy_status": "public", "publish_at": "2031-01-01T10:00:00Z"}, "set privacy_status to private"),
    ({"title": "t", "publish_at": "tomorrow"}, "RFC 3339"),
    ({"title": "t", "publish_at": "2031-01-01T10:00:00"}, "time zone"),
    ({"title": "t", "license": "cc"}, "youtube, creativeCommon"),
    ({"title": "t", "made_for_kids": "no"}, "true or false"),
    ({"title": "t", "snippet": "s"}, "mapping"),
    ({"title": "t", "visibility": "x"}, "not visibility"),
])
def test_bad_options_fail_before_any_request(options, match):
    with pytest.raises(ConfigurationError, match=match):
        video_resource(options)


@pytest.mark.parametrize("video, state, reason", [
    ({"status": {"uploadStatus": "uploaded"}, "processingDetails": {"processingStatus": "processing",
      "processingProgress": {"partsTotal": "10", "partsProcessed": "4", "timeLeftMs": "20000"}}},
     "in_progress", None),
    ({"status": {"uploadStatus": "processed"}}, "succeeded", None),
    ({"status": {"uploadStatus": "uploaded"}, "processingDetails": {"processingStatus": "succeeded"}}, "succeeded",
     None),
    ({"status": {"uploadStatus": "failed", "failureReason": "codec"}}, "failed", "uploadStatus failed codec"),
    ({"status": {"uploadStatus": "rejected", "rejectionReason": "duplicate"}}, "failed",
     "uploadStatus rejected duplicate"),
    ({"status": {"uploadStatus": "uploaded"}, "processingDetails": {"processingStatus": "failed",
      "processingFailureReason": "transcodeFailed"}}, "failed", "processingStatus failed transcodeFailed"),
])
def test_processing_states(video, state, reason):
    status = processing_status(video)
    assert status.state == state
    if reason:
        assert status.reason().startswith(reason)
    if state == "in_progress":
        assert status.progress_percent == 40.0 and status.check_after_secs == 20.0
