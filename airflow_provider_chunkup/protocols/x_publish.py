"""After the upload: X posts (``POST /2/tweets``), alt text and subtitle tracks.

Posts always go to API v2 (``api.x.com``, or the connection's host); alt text goes where the
connection uploads (``/2/media/metadata``, or v1.1's ``media/metadata/create.json``); subtitle tracks
to ``/2/media/subtitles``.

A post is not safe to send twice: X has no idempotency key, so a lost answer (a timeout, a 5xx after
X stored the post) followed by a blind retry would publish twice. :meth:`XPublisher.create_post`
therefore never repeats a post it cannot rule out: after any ambiguous failure it looks for the post
in the account's recent posts (``GET /2/users/{id}/tweets``: the same media ids, the same text) and
returns it when it is there. This module imports nothing from Airflow.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    DuplicatePost,
    MalformedResponse,
    RateLimited,
    RemoteError,
    RemoteRejected,
    RetryExhausted,
    ServerError,
)
from airflow_provider_chunkup.protocols.checkpoint import KeyValueStore
from airflow_provider_chunkup.protocols.http import NOT_THE_API, ApiClient, json_object
from airflow_provider_chunkup.protocols.retry import RetryPolicy
from airflow_provider_chunkup.protocols.x import HINTS, V1_1, XMediaUpload, x_error
from airflow_provider_chunkup.protocols.x_posts import SUBTITLE_TARGETS, first_match

POST_HINTS = {
    **HINTS,
    403: "The credentials may not post: OAuth 2.0 user tokens need the tweet.write, tweet.read and users.read "
         "scopes (re-authorize the user with them); OAuth 1.0a keys need an app with Read and Write permission.",
    429: "X's post limit is exhausted (it resets at x-rate-limit-reset): post less often, or raise "
         "retry_max_elapsed to wait it out.",
}
DUPLICATE_HINT = ("X refuses a post whose text repeats one the account posted recently. Make the text differ "
                  "(template in the date or the run id), or reply_to the earlier post instead.")
ONE_ATTEMPT = RetryPolicy(max_attempts=1)
LOOKUP_MARGIN_SECS = 300.0
"""How far before the first attempt the lookup starts: clocks differ, X's is the one that counts."""
LOOKUP_PAGES = 3
"""Pages of 100 recent posts searched for one whose answer was lost."""


def post_error(response: httpx.Response, step: str) -> RemoteError:
    """X's error for a post request, with the fix that fits posts (and duplicate content told apart)."""
    error = x_error(response, step, POST_HINTS)
    if response.status_code == 403 and "duplicate" in json.dumps(error.body).lower():
        message = str(error).replace(POST_HINTS[403], DUPLICATE_HINT)
        return DuplicatePost(message, status=error.status, body=error.body)
    return error


def isoformat(epoch: float) -> str:
    """X's time format for queries: ``2026-12-02T08:15:04Z`` (UTC, whole seconds)."""
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PublishedPost:
    """A post X holds: ``recovered`` when it was found (made by an attempt whose answer was lost)."""

    id: str
    text: str
    media_ids: list[str] = field(default_factory=list)
    recovered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "media_ids": list(self.media_ids), "recovered": self.recovered}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PublishedPost:
        return cls(id=str(data["id"]), text=str(data.get("text", "")),
                   media_ids=[str(i) for i in data.get("media_ids") or []], recovered=bool(data.get("recovered")))


class PostRecord:
    """Where a post task notes that it began posting, then the post X made: so a retry never posts twice.

    Lives in any key-value store with ``get``/``set`` (Airflow's task state store). ``identity`` is the
    post's body: a record of another body (the text changed between tries) is ignored.
    """

    def __init__(self, store: KeyValueStore, identity: Mapping[str, Any], key: str = "chunkup.post") -> None:
        self.store = store
        self.key = key
        self.identity = json.loads(json.dumps(dict(identity), sort_keys=True))

    def _load(self) -> Mapping[str, Any]:
        record = self.store.get(self.key, None)
        return record if isinstance(record, Mapping) and record.get("identity") == self.identity else {}

    def post(self) -> PublishedPost | None:
        """The post an earlier try made (and recorded), if any."""
        post = self._load().get("post")
        return PublishedPost.from_dict(post) if isinstance(post, Mapping) else None

    def attempt_at(self) -> float | None:
        """When an earlier try began posting without recording an answer (the post may exist)."""
        at = self._load().get("attempt_at")
        return float(at) if isinstance(at, (int, float)) else None

    def save_attempt(self, at: float) -> None:
        self.store.set(self.key, {"identity": self.identity, "attempt_at": at})

    def save_post(self, post: PublishedPost) -> None:
        self.store.set(self.key, {"identity": self.identity, "post": post.to_dict()})


class XPublisher:
    """Posts, alt text and subtitle tracks, for one X connection.

    :param client: the v2 API client posts go to.
    :param upload: the connection's upload protocol (its STATUS, and its host for v1.1 alt text).
    """

    def __init__(self, client: ApiClient, upload: XMediaUpload) -> None:
        self.client = client
        self.upload = upload
        self._user_id: str | None = None

    async def __aenter__(self) -> XPublisher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await asyncio.gather(self.client.aclose(), self.upload.client.aclose())

    # -- posts ------------------------------------------------------------------------------------

    async def create_post(self, body: Mapping[str, Any], *, earlier_attempt_at: float | None = None) -> PublishedPost:
        """Publish ``body`` (built by :func:`~.x_posts.build_post`) exactly once.

        ``earlier_attempt_at``: when an earlier try started posting the same body (its answer may have
        been lost), the account's recent posts are searched first, and the post found is returned.
        """
        started = time.time()
        if earlier_attempt_at is not None:
            found = await self.find_post(body, since=earlier_attempt_at)
            if found is not None:
                return found
        policy = self.client.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.client.request("POST", "/2/tweets", json=dict(body), step="X create post",
                                                     retry=ONE_ATTEMPT)
                return _post(response, body)
            except DuplicatePost:
                # Our own earlier attempt (its answer lost) is the likely author: look before failing.
                found = await self.find_post(body, since=earlier_attempt_at or started)
                if found is not None:
                    return found
                raise
            except RateLimited as e:  # refused before anything was posted
                error: RemoteError = e
            except (ServerError, RetryExhausted) as e:  # the post may or may not exist
                error = e
                found = await self.find_post(body, since=started)
                if found is not None:
                    return found
            wait = policy.wait_after(error, attempt)
            if attempt >= policy.max_attempts or time.time() - started + wait > policy.max_elapsed:
                raise error
            await asyncio.sleep(wait)

    async def find_post(self, body: Mapping[str, Any], *, since: float) -> PublishedPost | None:
        """The account's post made from ``since`` on that ``body`` would create, if X holds one."""
        step = "X lookup of the account's recent posts (to never post twice)"
        try:
            user_id = await self.user_id()
            params: dict[str, str] = {"max_results": "100", "start_time": isoformat(since - LOOKUP_MARGIN_SECS),
                                      "tweet.fields": "attachments,created_at"}
            for _ in range(LOOKUP_PAGES):
                response = await self.client.request("GET", f"/2/users/{user_id}/tweets", params=params, step=step)
                page = json_object(response, step)
                posts = page.get("data") or []
                match = first_match([p for p in posts if isinstance(p, Mapping)], body)
                if match is not None:
                    keys = (match.get("attachments") or {}).get("media_keys") or []
                    return PublishedPost(id=str(match["id"]), text=str(match.get("text", "")),
                                         media_ids=[str(k).split("_", 1)[-1] for k in keys], recovered=True)
                token = (page.get("meta") or {}).get("next_token")
                if not token:
                    return None
                params["pagination_token"] = str(token)
        except RemoteRejected as e:
            raise RemoteRejected(
                f"{e} Without this lookup chunkup cannot tell whether an earlier attempt already posted, and does "
                "not post again: give the token the tweet.read and users.read scopes, or check the account's posts "
                "and clear the task's state before retrying.", status=e.status, body=e.body,
            ) from e
        return None

    async def user_id(self) -> str:
        """The id of the account the credentials post as (``GET /2/users/me``, asked once)."""
        if self._user_id is None:
            step = "X lookup of the authenticated user"
            response = await self.client.request("GET", "/2/users/me", step=step)
            data = json_object(response, step).get("data")
            if not isinstance(data, Mapping) or not data.get("id"):
                raise MalformedResponse(f"{step} answered without data.id. {NOT_THE_API}", status=response.status_code)
            self._user_id = str(data["id"])
        return self._user_id

    # -- media metadata -----------------------------------------------------------------------------

    async def set_alt_text(self, media_id: str, text: str) -> None:
        """Attach alt text to an uploaded media (replaces earlier alt text: safe to repeat)."""
        step = f"X alt text of media {media_id}"
        if self.upload.dialect == V1_1:
            await self.upload.client.request("POST", "/1.1/media/metadata/create.json", step=step,
                                             json={"media_id": media_id, "alt_text": {"text": text}})
        else:
            await self.client.request("POST", "/2/media/metadata", step=step,
                                      json={"id": media_id, "metadata": {"alt_text": {"text": text}}})

    async def attach_subtitles(self, video_media_id: str, subtitle_media_id: str, language_code: str,
                               display_name: str, video_category: str | None = None) -> dict[str, Any]:
        """Attach an uploaded subtitle file (``media_category=subtitles``) to a video as a track."""
        step = f"X subtitles {language_code} for video {video_media_id}"
        if video_category not in (None, "tweet_video", "amplify_video"):
            raise ConfigurationError(
                f"Subtitles attach to a tweet_video or amplify_video upload; media {video_media_id} is "
                f"{video_category}."
            )
        body = {
            "id": video_media_id,
            "media_category": SUBTITLE_TARGETS.get(video_category or "", "TweetVideo"),
            "subtitles": {"id": subtitle_media_id, "language_code": language_code, "display_name": display_name},
        }
        response = await self.client.request("POST", "/2/media/subtitles", json=body, step=step)
        data = json_object(response, step).get("data")
        return dict(data) if isinstance(data, Mapping) else {}


def _post(response: httpx.Response, body: Mapping[str, Any]) -> PublishedPost:
    step = "X create post"
    data = json_object(response, step).get("data")
    if not isinstance(data, Mapping) or not data.get("id"):
        raise MalformedResponse(f"{step} answered without data.id: {response.text[:300]}. {NOT_THE_API}",
                                status=response.status_code)
    return PublishedPost(id=str(data["id"]), text=str(data.get("text", body.get("text", ""))),
                         media_ids=list((body.get("media") or {}).get("media_ids") or []))
