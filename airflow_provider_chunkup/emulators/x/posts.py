"""What X does with media after an upload: posts (``POST /2/tweets``), alt text and subtitles.

Routes (``publish.py``) parse and render; this module decides and remembers. It runs on the
server's event loop like ``media.py``, so its dicts need no locks.

X's own answers, and where each was seen (v2 validation errors are HTTP 400 ``application/json``
``{"errors": [{"parameters": {...}, "message": ...}], "title": "Invalid Request", "detail": "One or
more parameters to your request was invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"}``;
403s are ``{"detail", "type": "about:blank", "title": "Forbidden", "status": 403}``):

- a field outside the spec, a wrong type, a bad id: networknt's messages with the JSON path
  (``schema.py``; https://github.com/geduldig/TwitterAPI/issues/227);
- ``Your media IDs are invalid.`` with ``parameters {"media.media_ids": [...]}``, for an unknown id
  and for media still processing (https://github.com/abraham/twitteroauth/issues/1222, whose video
  was ``pending``; the full body in Bayselonarrend/OpenIntegrations' Twitter docs, "Create video
  tweet"); we also give it for failed processing, expired, subtitle or mixed media (our choice);
- ``Your Tweet text is too long. For more information on how Twitter determines text length see
  https://github.com/twitter/twitter-text.`` (400: https://github.com/gundogan8/FotBot/issues/22,
  tweepy's ``400 Bad Request`` text);
- ``Please include either text or media in your Tweet.`` (400, also for blank text: a RestSharp
  test posting ``" "``, and a Qiita article quoting the whole body);
- ``Requests with bodies must have content-type of application/json.``
  (https://github.com/abraham/twitteroauth/issues/1082);
- 403 ``You are not allowed to create a Tweet with duplicate content.``
  (https://github.com/akrherz/iembot/issues/163, 2026; the body's key order is X's);
- 403 ``You attempted to reply to a Tweet that is deleted or not visible to you.`` (v1.1 code 385,
  "Corresponds with HTTP 403"; v2 clients quote it as a 403 ``detail``); a quoted post that does not
  exist gets the same sentence with "quote" (our wording);
- ``You can only provide one of poll or quote_tweet_id or direct_message_deep_link or media or
  card_uri.`` (X's docs: media, poll and quote_tweet_id are mutually exclusive; the sentence is the
  one an X API emulator on GitHub gives, claiming the real format: unverified).

Our choices: a post's text is compared for duplicates exactly (after NFC), per author, within
``duplicate_post_window_secs``; images (up to 4), or 1 video, or 1 GIF, never mixed (X's apps mix
them since Oct 2022; whether the API does is unverified).
"""

from __future__ import annotations

import json
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from .config import XEmulatorConfig
from .media import (
    GIF_CATEGORIES,
    IMAGE_CATEGORIES,
    VIDEO_CATEGORIES,
    SnowflakeIds,
    XMedia,
    XMediaError,
    XMediaStore,
)
from .schema import CREATE_POST, validate
from .text import weighted_length

INVALID_REQUEST = "https://api.twitter.com/2/problems/invalid-request"
RESOURCE_NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
INVALID_DETAIL = "One or more parameters to your request was invalid."
MEDIA_IDS_INVALID = "Your media IDs are invalid."
TEXT_TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length see "
    "https://github.com/twitter/twitter-text."
)
TEXT_OR_MEDIA = "Please include either text or media in your Tweet."
JSON_ONLY = "Requests with bodies must have content-type of application/json."
NOT_A_JSON_OBJECT = "Request body must be a JSON object."
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
REPLY_TARGET_MISSING = "You attempted to reply to a Tweet that is deleted or not visible to you."
QUOTE_TARGET_MISSING = "You attempted to quote a Tweet that is deleted or not visible to you."
MAX_ALT_TEXT = 1000
EXCLUSIVE_FIELDS = ("poll", "quote_tweet_id", "direct_message_deep_link", "media", "card_uri")
ONLY_ONE_OF = f"You can only provide one of {' or '.join(EXCLUSIVE_FIELDS)}."
#: X's media object ``type`` by upload category.
MEDIA_TYPES = {
    **{c: "photo" for c in IMAGE_CATEGORIES},
    **{c: "animated_gif" for c in GIF_CATEGORIES},
    **{c: "video" for c in VIDEO_CATEGORIES},
}
#: ``POST /2/media/subtitles``'s ``media_category`` by the video's upload category.
SUBTITLE_CATEGORY_OF = {"tweet_video": "TweetVideo", "dm_video": "TweetVideo", "amplify_video": "AmplifyVideo"}


class XApiError(XMediaError):
    """A refusal rendered as ``body`` exactly (v2); v1.1 routes still render ``detail`` and ``v11_code``."""

    def __init__(self, body: dict[str, Any], status: int, detail: str = "", v11_code: int = 324) -> None:
        super().__init__(detail or str(body), status=status, v11_code=v11_code)
        self.body = body


def invalid_request(*errors: dict[str, Any]) -> XApiError:
    body = {"errors": list(errors), "title": "Invalid Request", "detail": INVALID_DETAIL, "type": INVALID_REQUEST}
    return XApiError(body, 400, errors[0]["message"] if errors else INVALID_DETAIL)


def invalid_parameter(message: str, parameters: dict[str, list[str]] | None = None) -> XApiError:
    return invalid_request({"parameters": parameters or {}, "message": message})


def forbidden(detail: str) -> XApiError:
    return XApiError({"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}, 403, detail)


def not_found_problem(resource_type: str, value: str, parameter: str = "id") -> dict[str, Any]:
    """X's ``Not Found Error`` entry (in ``errors`` of a 200 answer, as X does for lookups)."""
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": RESOURCE_NOT_FOUND,
    }


@dataclass
class XPost:
    """One created post, as stored (``body`` is the request as received)."""

    id: str
    text: str
    author_id: str
    created_at: float
    media_ids: list[str]
    media_keys: list[str]
    reply_to: str | None
    quote_tweet_id: str | None
    reply_settings: str | None
    made_with_ai: bool | None
    paid_partnership: bool | None
    auth_kind: str
    body: dict[str, Any]
    conversation_id: str = ""

    def inspect(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "author_id": self.author_id,
            "created_at": self.created_at,
            "media_ids": self.media_ids,
            "media_keys": self.media_keys,
            "reply_to": self.reply_to,
            "quote_tweet_id": self.quote_tweet_id,
            "reply_settings": self.reply_settings,
            "made_with_ai": self.made_with_ai,
            "paid_partnership": self.paid_partnership,
            "conversation_id": self.conversation_id,
            "auth_kind": self.auth_kind,
            "body": self.body,
        }


@dataclass
class XPostStore:
    """Every post of the emulated user, plus the alt text and subtitle rules on ``media``."""

    media: XMediaStore
    posts: dict[str, XPost] = field(default_factory=dict)
    _ids: SnowflakeIds = field(default_factory=SnowflakeIds)

    @property
    def config(self) -> XEmulatorConfig:
        return self.media.config

    def forget_all(self) -> None:
        self.posts.clear()

    def newest_first(self) -> list[XPost]:
        # Snowflake ids grow with time, so they order posts even within one clock tick.
        return sorted(self.posts.values(), key=lambda p: int(p.id), reverse=True)

    # -- POST /2/tweets -----------------------------------------------------------------------

    def create(self, body: Any, auth_kind: str) -> XPost:
        """Check ``body`` (a parsed ``CreatePostsRequest``) as X would, then store the post."""
        if not isinstance(body, dict):
            raise invalid_parameter(NOT_A_JSON_OBJECT)
        violations = validate(body, CREATE_POST)
        if violations:
            raise invalid_request(*(v.as_error() for v in violations))
        given = [name for name in EXCLUSIVE_FIELDS if body.get(name) not in (None, "", {}, [])]
        if len(given) > 1:
            raise invalid_parameter(ONLY_ONE_OF, {name: [json.dumps(body[name])] for name in given})
        text = body.get("text", "")
        media_ids: list[str] = (body.get("media") or {}).get("media_ids", [])
        if not text.strip() and not media_ids:
            raise invalid_parameter(TEXT_OR_MEDIA)
        if weighted_length(text) > self.config.max_post_length:
            raise invalid_parameter(TEXT_TOO_LONG, {"text": [text]})
        attached = self._attachable(media_ids)
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and reply_to not in self.posts:
            raise forbidden(REPLY_TARGET_MISSING)
        quoted = body.get("quote_tweet_id")
        if quoted is not None and quoted not in self.posts:
            raise forbidden(QUOTE_TARGET_MISSING)
        config = self.config
        now = time.time()
        if text.strip() and self._duplicate(text, config.user_id, now):
            raise forbidden(DUPLICATE)
        post_id = self._ids.next_id()
        post = XPost(
            id=post_id,
            text=text,
            author_id=config.user_id,
            created_at=now,
            media_ids=list(media_ids),
            media_keys=[m.media_key for m in attached],
            reply_to=reply_to,
            quote_tweet_id=quoted,
            reply_settings=body.get("reply_settings"),
            made_with_ai=body.get("made_with_ai"),
            paid_partnership=body.get("paid_partnership"),
            auth_kind=auth_kind,
            body=body,
            conversation_id=self.posts[reply_to].conversation_id if reply_to else post_id,
        )
        self.posts[post_id] = post
        return post

    def _attachable(self, media_ids: list[str]) -> list[XMedia]:
        """The media behind ``media_ids`` when X would attach them all, else X's refusal."""
        if not media_ids:
            return []
        refusal = invalid_parameter(MEDIA_IDS_INVALID, {"media.media_ids": list(media_ids)})
        found: list[XMedia] = []
        for media_id in media_ids:
            media = self.media.media.get(media_id)
            if media is None or media.state != "finalized" or media.expired():
                raise refusal
            if media.category not in MEDIA_TYPES:  # subtitles, 3D models
                raise refusal
            info = self.media.processing_info(media)
            if info is not None and info["state"] != "succeeded":
                raise refusal
            found.append(media)
        kinds = [MEDIA_TYPES[m.category or ""] for m in found]
        if len(set(kinds)) > 1 or (kinds[0] != "photo" and len(kinds) > 1) or len(set(media_ids)) != len(media_ids):
            raise refusal
        return found

    def _duplicate(self, text: str, author_id: str, now: float) -> bool:
        window = self.config.duplicate_post_window_secs
        if window <= 0:
            return False
        wanted = unicodedata.normalize("NFC", text)
        return any(
            p.author_id == author_id and now - p.created_at < window and unicodedata.normalize("NFC", p.text) == wanted
            for p in self.posts.values()
        )

    # -- alt text and subtitles ---------------------------------------------------------------

    def describable(self, media_id: str) -> XMedia:
        """Media that takes metadata: finalized, not expired, not a subtitle file (processing may go on)."""
        media = self.media.get(media_id)
        if media.state != "finalized" or media.expired():
            raise XMediaError(
                f"Media {media_id} is not finalized (or expired); FINALIZE it before setting its metadata.",
                parameter="id", value=media_id,
            )  # fmt: skip
        if media.category == "subtitles":
            raise XMediaError(
                f"Media {media_id} is a subtitle file; metadata goes on images, GIFs and videos.",
                parameter="id", value=media_id,
            )  # fmt: skip
        return media

    def set_metadata(self, media_id: str, metadata: dict[str, Any]) -> XMedia:
        """Replace what was set before by ``metadata`` (alt text is counted in characters after NFC)."""
        media = self.describable(media_id)
        alt = (metadata.get("alt_text") or {}).get("text")
        if alt is not None and len(unicodedata.normalize("NFC", alt)) > MAX_ALT_TEXT:
            path = "$.metadata.alt_text.text"
            raise XMediaError(f"{path}: may only be {MAX_ALT_TEXT} characters long", parameter=path, value=alt,
                              v11_code=44)  # fmt: skip
        media.metadata = dict(metadata)
        return media

    def add_subtitles(self, video_id: str, media_category: str, track: dict[str, str]) -> XMedia:
        """Attach a subtitle upload to a video; a second track in the same language replaces the first."""
        video = self.media.get(video_id)
        if video.state != "finalized" or video.expired() or video.category not in SUBTITLE_CATEGORY_OF:
            raise XMediaError(
                f"Media {video_id} is not a finalized video (tweet_video, amplify_video or dm_video).",
                parameter="id", value=video_id,
            )  # fmt: skip
        if SUBTITLE_CATEGORY_OF[video.category or ""] != media_category:
            raise XMediaError.invalid(
                "media_category", media_category,
                f"media {video_id} is {video.category}: send {SUBTITLE_CATEGORY_OF[video.category or '']}",
            )  # fmt: skip
        subtitle = self.media.get(track["id"])
        if subtitle.state != "finalized" or subtitle.expired() or subtitle.category != "subtitles":
            raise XMediaError(
                f"Media {track['id']} is not a finalized subtitle file (media_category=subtitles).",
                parameter="subtitles.id", value=track["id"],
            )  # fmt: skip
        video.subtitles[track["language_code"]] = {
            "media_id": track["id"],
            "language_code": track["language_code"],
            "display_name": track["display_name"],
        }
        return video

    def remove_subtitles(self, video_id: str, media_category: str, language_code: str) -> bool:
        """Whether a track in ``language_code`` was there (and is now gone)."""
        video = self.media.get(video_id)
        expected = SUBTITLE_CATEGORY_OF.get(video.category or "")
        if expected is None:
            raise XMediaError(f"Media {video_id} is not a video.", parameter="id", value=video_id)
        if expected != media_category:
            raise XMediaError.invalid("media_category", media_category, f"media {video_id} is {expected}")
        return video.subtitles.pop(language_code, None) is not None
