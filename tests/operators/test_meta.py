"""Meta's publish operators against the emulator: Instagram's media_publish and a Page Reel's finish, once each."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from airflow_provider_chunkup.hooks.facebook_reels import FacebookReelsHook
from airflow_provider_chunkup.hooks.instagram import InstagramHook
from airflow_provider_chunkup.operators.meta import FacebookReelsPublishOperator, InstagramPublishOperator
from airflow_provider_chunkup.operators.resume import UploadFailedForGood

META_TOKEN = "meta-token"


@pytest.fixture
def meta_connections(emulator, set_connection) -> Callable[..., None]:
    """The chunkup_instagram and chunkup_facebook_reels default connections, to the emulator."""

    def define(**extra: Any) -> None:
        set_connection("chunkup_instagram_default", conn_type="chunkup_instagram", host=emulator.url,
                       password=META_TOKEN, extra={"ig_user_id": "17841400000000001", **extra})
        set_connection("chunkup_facebook_reels_default", conn_type="chunkup_facebook_reels", host=emulator.url,
                       password=META_TOKEN, extra={"page_id": "1234", **extra})

    return define


def stats(emulator) -> dict:
    return httpx.get(f"{emulator.url}/_emulator/stats").json()


def test_instagram_publish_from_the_upload_result_once(meta_connections, media_file, emulator):
    meta_connections()
    emulator.config.meta.processing_secs = 0
    result = InstagramHook().upload(str(media_file(50_000)), options={"caption": "hello"})
    task = InstagramPublishOperator(task_id="publish", container=result.to_dict())
    first = task.execute({})
    assert first["id"] and first["container_id"] == result.media_id and not first["already_published"]
    assert task.execute({})["already_published"]  # the task retried: nothing published twice
    assert stats(emulator)["meta_published"] == 1


def test_instagram_publish_of_a_container_still_processing_fails_for_good(meta_connections, media_file, emulator):
    meta_connections()
    emulator.config.meta.processing_secs = 3600
    result = InstagramHook().upload(str(media_file(4096)))
    with pytest.raises(UploadFailedForGood, match="IN_PROGRESS"):
        InstagramPublishOperator(task_id="publish", container=result.media_id).execute({})


def test_publish_refuses_another_apis_result(meta_connections):
    meta_connections()
    with pytest.raises(UploadFailedForGood, match="vimeo upload, not a instagram one"):
        InstagramPublishOperator(task_id="p", container={"api": "vimeo", "media_id": "1"}).execute({})


def test_reels_publish_sends_the_finish_once(meta_connections, media_file, emulator):
    meta_connections()
    result = FacebookReelsHook().upload(str(media_file(50_000)), options={"publish": False})
    task = FacebookReelsPublishOperator(task_id="publish", video=result.to_dict(), video_state="DRAFT",
                                        description="Later")
    assert task.execute({}) == {"video_id": result.media_id, "finished": True}
    assert task.execute({}) == {"video_id": result.media_id, "finished": False}
    got = httpx.get(f"{emulator.url}/_emulator/meta/videos/{result.media_id}").json()
    assert got["video_state"] == "DRAFT" and got["description"] == "Later" and stats(emulator)["meta_finished"] == 1


def test_reels_publish_checks_the_state_before_any_request(meta_connections, emulator):
    meta_connections()
    with pytest.raises(UploadFailedForGood, match="needs scheduled_publish_time"):
        FacebookReelsPublishOperator(task_id="p", video="5", video_state="SCHEDULED").execute({})
    assert not [route for route in stats(emulator)["routes"] if "{ver}" in route]  # no Graph request
