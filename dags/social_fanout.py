"""Publish one video everywhere a media team posts it: Facebook, Instagram, TikTok, LinkedIn and X.

Each platform is its own branch of three steps (upload, wait for processing, publish), so one platform's
outage or refusal fails only its branch, and a retry of one step never repeats another::

    upload_to_facebook       -> wait_for_facebook       (published by the upload's finish)
    upload_to_facebook_reel  -> publish_facebook_reel   -> wait_for_facebook_reel
    upload_to_instagram      -> wait_for_instagram      -> publish_to_instagram
    upload_to_tiktok         -> wait_for_tiktok         (a direct post: TikTok publishes once processed)
    upload_to_linkedin       -> wait_for_linkedin       -> post_to_linkedin
    upload_to_x              -> wait_for_x              -> post_to_x

How each platform separates upload from publishing:

- **Facebook (Page video)**: Graph dictates every transfer window; ``published: true`` at the finish makes the
  video public once Facebook has processed it, and the sensor waits until it is ``ready``.
- **Facebook Reels**: uploaded with ``publish: false``, so the upload task only checks the bytes arrived;
  ``publish_facebook_reel`` sends the finish with ``video_state=PUBLISHED`` and the description (a retry never
  sends it twice), which starts Facebook's processing; the sensor waits until the Reel is ``ready``. Use
  ``DRAFT``, or ``SCHEDULED`` with ``scheduled_publish_time``, to publish later.
- **Instagram Reels**: the caption goes with the container; ``publish_to_instagram`` calls ``media_publish`` once
  the container is ``FINISHED`` (Instagram allows 100 API posts a day).
- **TikTok**: a direct post carries its caption and privacy at init (``SELF_ONLY`` is all an unaudited app may
  use); TikTok publishes it itself after processing, and the sensor waits for ``PUBLISH_COMPLETE``. For a draft
  the creator finishes in the app, use a connection with ``mode: inbox``.
- **LinkedIn**: the video must be ``AVAILABLE`` before a post may carry it; ``post_to_linkedin`` creates it.
- **X**: ``post_to_x`` posts the text with the media once processing has succeeded.

Connections (their ``_default`` names): ``chunkup_facebook``, ``chunkup_facebook_reels``, ``chunkup_instagram``,
``chunkup_tiktok``, ``chunkup_linkedin`` and ``chunkup_x``. Every upload keeps its state in the task state
store, so a worker killed mid-upload resumes where the platform says it is.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_chunkup.operators.linkedin import LinkedInPostOperator
from airflow_provider_chunkup.operators.meta import FacebookReelsPublishOperator, InstagramPublishOperator
from airflow_provider_chunkup.operators.upload import ChunkedUploadOperator
from airflow_provider_chunkup.operators.x_post import XCreatePostOperator
from airflow_provider_chunkup.sensors.processing import MediaProcessingSensor

MiB = 1024 * 1024
PROCESSING = {"deferrable": True, "poke_interval": 10, "timeout": timedelta(hours=2)}
"""The sensors wait in the triggerer, holding no worker slot."""


@dag(
    dag_id="chunkup_social_fanout",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["chunkup", "facebook", "instagram", "tiktok", "linkedin", "x", "example"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "source": Param("/tmp/chunkup-demo.mp4", type="string",
                        description="The video: a local path or any fsspec URL (s3://...)."),
        "title": Param("chunkup example", type="string", maxLength=90,
                       description="Title on Facebook and TikTok's caption (TikTok takes 2,200 characters)."),
        "caption": Param("Uploaded by chunkup", type="string", maxLength=2200,
                         description="The caption, description or post text on every platform."),
        "tiktok_privacy": Param("SELF_ONLY", enum=["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                                                   "PUBLIC_TO_EVERYONE"],
                                description="One of the creator's privacy_level_options."),
    },
)
def chunkup_social_fanout() -> None:
    facebook = ChunkedUploadOperator(
        task_id="upload_to_facebook", conn_id="chunkup_facebook_default", source="{{ params.source }}",
        upload_options={"title": "{{ params.title }}", "description": "{{ params.caption }}", "published": True})
    MediaProcessingSensor(task_id="wait_for_facebook", upload=facebook.output, **PROCESSING)

    reel = ChunkedUploadOperator(
        task_id="upload_to_facebook_reel", conn_id="chunkup_facebook_reels_default", source="{{ params.source }}",
        upload_options={"publish": False})
    reel_published = FacebookReelsPublishOperator(task_id="publish_facebook_reel", video=reel.output,
                                                  description="{{ params.caption }}")
    reel_published >> MediaProcessingSensor(task_id="wait_for_facebook_reel", upload=reel.output, **PROCESSING)

    instagram = ChunkedUploadOperator(
        task_id="upload_to_instagram", conn_id="chunkup_instagram_default", source="{{ params.source }}",
        upload_options={"media_type": "REELS", "caption": "{{ params.caption }}"})
    instagram_ready = MediaProcessingSensor(task_id="wait_for_instagram", upload=instagram.output, **PROCESSING)
    instagram_ready >> InstagramPublishOperator(task_id="publish_to_instagram", container=instagram.output)

    tiktok = ChunkedUploadOperator(
        task_id="upload_to_tiktok", conn_id="chunkup_tiktok_default", source="{{ params.source }}",
        chunk_size=10 * MiB,  # TikTok: 5 to 64 MiB, the remainder merged into the last chunk
        upload_options={"title": "{{ params.title }}", "privacy_level": "{{ params.tiktok_privacy }}"})
    MediaProcessingSensor(task_id="wait_for_tiktok", upload=tiktok.output, **PROCESSING)

    linkedin = ChunkedUploadOperator(
        task_id="upload_to_linkedin", conn_id="chunkup_linkedin_default", source="{{ params.source }}",
        max_in_flight=3)  # LinkedIn's parts are independent signed URLs: three at a time
    linkedin_ready = MediaProcessingSensor(task_id="wait_for_linkedin", upload=linkedin.output, **PROCESSING)
    linkedin_ready >> LinkedInPostOperator(task_id="post_to_linkedin", video=linkedin.output,
                                           commentary="{{ params.caption }}")

    x = ChunkedUploadOperator(
        task_id="upload_to_x", conn_id="chunkup_x_default", source="{{ params.source }}",
        media_category="tweet_video", max_in_flight=3)
    x_ready = MediaProcessingSensor(task_id="wait_for_x", upload=x.output, **PROCESSING)
    x_ready >> XCreatePostOperator(task_id="post_to_x", text="{{ params.caption }}", media=x.output)


chunkup_social_fanout()
