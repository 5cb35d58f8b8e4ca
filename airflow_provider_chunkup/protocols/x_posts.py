"""What X would refuse in a post, alt text or subtitle track, checked before any request.

The post's fields follow ``CreatePostsRequest`` of X's OpenAPI spec (``x_post_schema.json``, a copy
of it): a field outside the spec, a wrong type or an id that is not numeric is refused here, with
the field's path. On top of the schema: the text's weighted length (:mod:`.x_text`), text or media
required, X's media rules (at most 4 images, or 1 video, or 1 GIF; never mixed), and at most one of
media, poll, quote, card and DM deep link. This module imports nothing from Airflow.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.x import CATEGORY_FAMILY, media_family
from airflow_provider_chunkup.protocols.x_text import DEFAULT_MAX_POST_LENGTH, LONG_POST_MAX_LENGTH, weighted_length

MAX_IMAGES = 4
EXCLUSIVE_FIELDS = ("media", "poll", "quote_tweet_id", "card_uri", "direct_message_deep_link")
"""At most one of these per post (X's docs: media "is mutually exclusive from Quote Tweet ID and Poll", card_uri
"from Quote Tweet Id, Poll, Media, and Direct Message Deep Link")."""
MAX_ALT_TEXT = 1000
"""Characters of alt text X keeps per media (``CreateMediaMetadataMetadataAltText.text``)."""

ID = re.compile(r"^[0-9]{1,19}$")
LANGUAGE_CODE = re.compile(r"^[A-Z]{2}$")
#: Media key prefixes (``<type>_<id>``): 3 photo, 7 video, 13 amplify video, 16 animated GIF.
KEY_KINDS = {"3": "image", "7": "video", "13": "video", "16": "gif"}
#: What X's post rules tell apart (``protocols.x``'s families, 3D models aside).
POST_KINDS = ("image", "gif", "video", "subtitles")
#: The ``media_category`` ``POST /2/media/subtitles`` names the video by.
SUBTITLE_TARGETS = {"amplify_video": "AmplifyVideo"}


@dataclass(frozen=True)
class PostMedia:
    """One media to attach: its id and, when known, what it is (``image``, ``gif``, ``video``)."""

    media_id: str
    kind: str | None = None
    media_key: str | None = None


def media_kind(media_key: str | None = None, media_category: str | None = None,
               media_type: str | None = None) -> str | None:
    """``image``, ``gif``, ``video`` or ``subtitles`` from what an upload's result says; ``None`` if it says nothing."""
    if media_category in CATEGORY_FAMILY:
        return CATEGORY_FAMILY[media_category]
    if media_key and "_" in media_key and media_key.split("_", 1)[0] in KEY_KINDS:
        return KEY_KINDS[media_key.split("_", 1)[0]]
    family = media_family(media_type) if media_type else None
    return family if family in POST_KINDS else None


def as_media_id(value: Any, what: str = "media id") -> str:
    """A numeric X id as text (X's ids are up to 19 digits: never let them become floats)."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not ID.match(text):
        raise ConfigurationError(
            f"{what} {value!r} is not an X id (1 to 19 digits). Pass the id X returned, for example the "
            "media_id of an upload task's result."
        )
    return text


@functools.cache
def _post_schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("x_post_schema.json").read_text("utf-8"))


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(the post)"


def check_schema(body: Mapping[str, Any]) -> None:
    """Refuse what ``CreatePostsRequest`` does not allow, naming the field."""
    validator = jsonschema.Draft202012Validator(_post_schema())
    # An unknown field first: it explains the errors it causes (a misspelt required one is "missing").
    errors = sorted(validator.iter_errors(dict(body)),
                    key=lambda e: (e.validator != "additionalProperties", list(map(str, e.absolute_path))))
    if not errors:
        return
    first = errors[0]
    if first.validator == "additionalProperties":
        where = _path(first)
        allowed = sorted(first.schema.get("properties", {}))
        unknown = sorted(set(first.instance) - set(allowed))
        raise ConfigurationError(
            f"X's post request has no field {', '.join(map(repr, unknown))}"
            f"{'' if where == '(the post)' else f' in {where}'}. Allowed there: {', '.join(allowed)}."
        )
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise ConfigurationError(f"X would refuse the post: {_path(first)}: {first.message}{more}.")


def max_post_length(value: Any) -> int:
    """The ``max_post_length`` setting, checked (280 unless the account may post longer)."""
    if value is None or value == "":
        return DEFAULT_MAX_POST_LENGTH
    try:
        length = int(value)
    except (TypeError, ValueError):
        length = 0
    if isinstance(value, bool) or not 1 <= length <= LONG_POST_MAX_LENGTH:
        raise ConfigurationError(
            f"max_post_length={value!r} must be a whole number from 1 to {LONG_POST_MAX_LENGTH} (X Premium's "
            f"limit); leave it unset for X's usual {DEFAULT_MAX_POST_LENGTH}."
        )
    return length


def check_text(text: str, limit: int) -> None:
    length = weighted_length(text)
    if length > limit:
        raise ConfigurationError(
            f"The post's text is {length} characters as X counts them (links count 23, emoji and CJK 2); X takes "
            f"at most {limit}. Shorten it, or set max_post_length on the connection if the account may post "
            "longer (X Premium: up to 25000)."
        )


def check_media(media: Sequence[PostMedia]) -> None:
    """X's composition rule: up to 4 images, or 1 video, or 1 GIF; not mixed; subtitles are not post media."""
    kinds = [m.kind for m in media]
    if "subtitles" in kinds:
        raise ConfigurationError(
            "A subtitle file cannot be attached to a post: attach it to the video (subtitles=... on the operator, "
            "or attach_subtitles()) and post the video."
        )
    ids = [m.media_id for m in media]
    if len(set(ids)) != len(ids):
        raise ConfigurationError(f"A media id appears twice in the post: {ids}. Attach each media once.")
    if len(media) > MAX_IMAGES:
        raise ConfigurationError(f"X attaches at most {MAX_IMAGES} media to a post; got {len(media)}. "
                                 "Split them over several posts (a thread: reply_to the previous post).")
    moving = [k for k in kinds if k in ("video", "gif")]
    if moving and len(media) > 1:
        raise ConfigurationError(
            "X posts take up to 4 images, or 1 video, or 1 GIF, not mixed; got "
            f"{', '.join(k or 'unknown' for k in kinds)}. Post the video or GIF on its own (another post can "
            "reply_to it with the images)."
        )


def check_alt_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError(f"Alt text must be non-empty text; got {text!r}.")
    length = len(unicodedata.normalize("NFC", text))
    if length > MAX_ALT_TEXT:
        raise ConfigurationError(
            f"Alt text is {length} characters; X keeps at most {MAX_ALT_TEXT}. Describe the media in fewer words."
        )
    return text


def as_language_code(value: Any) -> str:
    """A subtitle track's language as X wants it: two capital letters (``en`` becomes ``EN``)."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if not LANGUAGE_CODE.match(code):
        raise ConfigurationError(
            f"Subtitle language_code {value!r} must be a two-letter language code such as EN or FR (X takes "
            "ISO 639-1 codes, in capitals)."
        )
    return code


def build_post(text: str | None, media: Sequence[PostMedia] = (), *, fields: Mapping[str, Any] | None = None,
               max_length: int = DEFAULT_MAX_POST_LENGTH) -> dict[str, Any]:
    """The ``POST /2/tweets`` body, or :class:`ConfigurationError` for whatever X would refuse."""
    fields = dict(fields or {})
    if "text" in fields:
        raise ConfigurationError("Pass the post's text as text=..., not among the other fields.")
    if text is not None and not isinstance(text, str):
        raise ConfigurationError(f"The post's text must be a string; got {type(text).__name__}.")
    text = text or ""
    body: dict[str, Any] = {"text": text, **fields}
    if media:
        extra = fields.get("media")
        if extra is not None and not isinstance(extra, Mapping):
            raise ConfigurationError("media=... among the fields must be an object (title, tagged_user_ids...).")
        if extra and "media_ids" in extra:
            raise ConfigurationError("Give the media once: as media_ids (or upload results), not also in "
                                     "media.media_ids.")
        body["media"] = {**dict(extra or {}), "media_ids": [m.media_id for m in media]}
    check_media(media)
    check_schema(body)
    check_text(text, max_length)
    if not text.strip() and not media and "poll" not in body:
        raise ConfigurationError("A post needs text or media: both are empty. Render the text, or attach the upload.")
    exclusive = [name for name in EXCLUSIVE_FIELDS if body.get(name)]
    if len(exclusive) > 1:
        raise ConfigurationError(
            f"X takes only one of {', '.join(EXCLUSIVE_FIELDS)} in a post; this one has {' and '.join(exclusive)}. "
            "Keep one (to quote a post and show media, post the media with a link to the post instead)."
        )
    return body


# -- finding a post an earlier attempt made (its answer was lost) ---------------------------------

_LINK = re.compile(r"https?://\S+")


def _comparable(text: str) -> str:
    """Post text as comparable across X's rewriting: links (t.co) and surrounding space removed."""
    return " ".join(_LINK.sub(" ", unicodedata.normalize("NFC", text)).split())


def same_post(found: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether a post from the user's timeline is the one ``body`` would create.

    With media, the media ids decide (one upload's id is in no one else's post); the text is compared
    too, without links (X rewrites them as t.co and appends the media's own link).
    """
    ids = list((body.get("media") or {}).get("media_ids") or [])
    keys = list((found.get("attachments") or {}).get("media_keys") or [])
    if sorted(k.split("_", 1)[-1] for k in keys) != sorted(ids):
        return False
    return _comparable(str(found.get("text", ""))) == _comparable(str(body.get("text", "")))


def first_match(posts: Iterable[Mapping[str, Any]], body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((p for p in posts if same_post(p, body)), None)


# -- what operators and DAGs hand over: upload results, ids, per-media alt text, subtitle tracks ------


@dataclass(frozen=True)
class SubtitleTrack:
    """A subtitle file uploaded with ``media_category=subtitles``, to attach to the post's video."""

    media_id: str
    language_code: str
    display_name: str


def post_media(value: Any) -> list[PostMedia]:
    """Media to post from an upload result (its XCom dict, or that dict rendered as JSON text), a media id,
    or a list of them."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except ValueError:
            raise ConfigurationError(f"media {value[:80]!r} looks like JSON but does not parse: pass the upload "
                                     "task's output (finalize.output), or media ids.") from None
    if value is None or value == "" or value == []:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    media: list[PostMedia] = []
    for item in items:
        if isinstance(item, PostMedia):
            media.append(item)
        elif isinstance(item, Mapping) or hasattr(item, "media_id"):
            record = item if isinstance(item, Mapping) else vars(item)
            if record.get("api", "x") != "x":
                raise ConfigurationError(
                    f"Media {record.get('media_id')!r} was uploaded to {record.get('api')}, not X: post X uploads only."
                )
            key = record.get("media_key")
            details = record.get("details") if isinstance(record.get("details"), Mapping) else {}
            category = record.get("media_category") or details.get("media_category")
            media.append(PostMedia(as_media_id(record.get("media_id")),
                                   media_kind(key, category, record.get("media_type")), key))
        else:
            media.append(PostMedia(as_media_id(item)))
    return media


def alt_texts(value: Any, media: Sequence[PostMedia]) -> dict[str, str]:
    """Alt text per media id from one text (one media), a list (one per media, ``None`` to skip) or a mapping."""
    if value is None or value == "" or value == {}:
        return {}
    ids = [m.media_id for m in media]
    if isinstance(value, str):
        if len(ids) != 1:
            raise ConfigurationError(
                f"alt_text is one text but the post has {len(ids)} media: give a list (one per media, in order) "
                "or a mapping of media id to text."
            )
        return {ids[0]: check_alt_text(value)}
    if isinstance(value, Mapping):
        texts = {as_media_id(k): v for k, v in value.items() if v}
        unknown = sorted(set(texts) - set(ids))
        if unknown:
            raise ConfigurationError(f"alt_text names media {unknown} that is not in the post ({ids}).")
        return {k: check_alt_text(v) for k, v in texts.items()}
    if isinstance(value, (list, tuple)):
        if len(value) != len(ids):
            raise ConfigurationError(f"alt_text has {len(value)} entries for {len(ids)} media: give one per media "
                                     "(None to skip one).")
        return {i: check_alt_text(v) for i, v in zip(ids, value, strict=True) if v}
    raise ConfigurationError(f"alt_text must be a text, a list or a mapping; got {type(value).__name__}.")


def subtitle_tracks(value: Any) -> list[SubtitleTrack]:
    """Tracks from ``{"media": <upload result or id>, "language_code": "EN", "display_name": "English"}``, or a list.

    A track whose ``media`` is ``None`` (the output of a subtitle upload task that was skipped) is left out.
    """
    if value is None or value == "" or value == []:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    tracks: list[SubtitleTrack] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ConfigurationError(
                "Each subtitle track is a mapping: {'media': <the subtitle upload's result or id>, "
                f"'language_code': 'EN', 'display_name': 'English'}}; got {item!r}."
            )
        unknown = sorted(set(item) - {"media", "media_id", "language_code", "display_name"})
        if unknown:
            raise ConfigurationError(f"A subtitle track has no field {', '.join(unknown)}; it takes media, "
                                     "language_code and display_name.")
        if "media" in item and item["media"] is None:
            continue  # its upload was skipped: no track in this language
        found = post_media(item.get("media", item.get("media_id")))
        if len(found) != 1:
            raise ConfigurationError("A subtitle track names one subtitle upload (its result or media id) as media.")
        if found[0].kind not in (None, "subtitles"):
            raise ConfigurationError(f"Media {found[0].media_id} is {found[0].kind}, not a subtitle file: upload the "
                                     ".srt or .vtt file (media_category subtitles) and name that upload.")
        code = as_language_code(item.get("language_code"))
        name = item.get("display_name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"Subtitle track {code} needs a display_name (the language as viewers read it, "
                                     "such as English).")
        tracks.append(SubtitleTrack(found[0].media_id, code, name.strip()))
    codes = [t.language_code for t in tracks]
    if len(set(codes)) != len(codes):
        raise ConfigurationError(f"Two subtitle tracks have the same language ({codes}): one track per language.")
    return tracks
