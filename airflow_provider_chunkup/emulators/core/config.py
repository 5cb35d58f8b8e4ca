"""Runtime-adjustable emulator configuration.

Handlers read the config on every request, so mutating an attribute (from Python, or through
``PATCH /_emulator/config``) takes effect on the next request.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB

#: Upload size limits per X media category (bytes), checked against INIT's ``total_bytes``.
#: Images, GIFs and videos follow X's docs (5 MB, 15 MB, 512 MB); X documents no limit for
#: subtitles, so 512 KiB is our pick (an SRT/VTT file for a long video is well under that).
DEFAULT_X_SIZE_LIMITS: dict[str, int] = {
    "tweet_image": 5 * MIB,
    "dm_image": 5 * MIB,
    "tweet_gif": 15 * MIB,
    "dm_gif": 15 * MIB,
    "tweet_video": 512 * MIB,
    "dm_video": 512 * MIB,
    "amplify_video": 512 * MIB,
    "subtitles": 512 * KIB,
}

#: What real X returns in ``processing_info.error`` for a video it cannot transcode (v1.1 docs).
DEFAULT_X_PROCESSING_ERROR: dict[str, Any] = {
    "code": 1,
    "name": "InvalidMedia",
    "message": "Unsupported video format",
}


@dataclass
class XEmulatorConfig:
    """Behaviour of the X media upload emulator (v2 and v1.1)."""

    #: OAuth 2.0 bearer tokens accepted as a user with the ``media.write`` scope.
    bearer_tokens: set[str] = field(default_factory=lambda: {"chunkup-emulator-token"})
    #: Bearer tokens that authenticate but lack ``media.write``: every media call gets 403.
    forbidden_tokens: set[str] = field(default_factory=lambda: {"chunkup-emulator-no-media-write"})
    #: Bearer tokens with ``media.write`` but without ``tweet.write``: ``POST /2/tweets`` gets 403.
    no_tweet_write_tokens: set[str] = field(default_factory=lambda: {"chunkup-emulator-no-tweet-write"})
    #: OAuth 1.0a consumer key -> consumer secret.
    oauth1_consumers: dict[str, str] = field(
        default_factory=lambda: {"chunkup-consumer-key": "chunkup-consumer-secret"}
    )
    #: OAuth 1.0a access token -> access token secret.
    oauth1_tokens: dict[str, str] = field(
        default_factory=lambda: {"chunkup-access-token": "chunkup-access-token-secret"}
    )
    #: Accepted clock skew of ``oauth_timestamp`` (seconds, either direction).
    oauth1_timestamp_tolerance_secs: int = 300
    #: Lifetime of an upload session from INIT, and of a finalized media id.
    expires_after_secs: int = 86400
    #: Largest accepted APPEND segment (decoded bytes). X documents 5 MB.
    max_segment_bytes: int = 5 * MIB
    #: Whether INIT rejects ``total_bytes`` above the category's limit in ``size_limits``.
    enforce_size_limits: bool = True
    size_limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_X_SIZE_LIMITS))
    #: Time from FINALIZE to a terminal processing state (first quarter ``pending``, then
    #: ``in_progress``). 0 means the first STATUS call already sees the terminal state.
    processing_seconds: float = 3.0
    #: Terminal processing state: ``"succeeded"`` or ``"failed"`` (per-media overrides win).
    processing_outcome: str = "succeeded"
    processing_error: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_X_PROCESSING_ERROR))
    #: Fraction (0..1) of processed media whose processing fails, drawn at FINALIZE from the fault
    #: injector's seeded sequence; on top of ``processing_outcome``, under per-media overrides.
    processing_failure_rate: float = 0.0
    #: ``processing_info.check_after_secs`` while processing is not terminal.
    check_after_secs: int = 1
    #: Upload bucket (initialize, append, finalize, metadata, subtitles; v2 and v1.1) requests per window.
    rate_limit: int = 1875
    #: Status bucket (GET status, v2 and v1.1) requests per window.
    status_rate_limit: int = 1000
    #: Posts bucket (``POST /2/tweets``) requests per window (X: 100 per 15 minutes per user).
    post_rate_limit: int = 100
    #: Read bucket (``GET /2/tweets/{id}``, ``/2/users/me``, ``/2/users/{id}/tweets``) requests per window.
    read_rate_limit: int = 900
    rate_limit_window_secs: float = 900.0
    #: Largest weighted length of a post's text (twitter-text's count); X Premium accounts have 25000.
    max_post_length: int = 280
    #: A post repeating the same text as one of the user's posts this recent is refused; 0: never.
    duplicate_post_window_secs: float = 86400.0
    #: The one user every accepted credential acts as (``GET /2/users/me``, posts' ``author_id``).
    user_id: str = "1843000000000000001"
    user_username: str = "chunkup_emulator"
    user_name: str = "chunkup emulator"


#: Qualities api.video's spec knows (``quality`` schema).
APIVIDEO_QUALITIES = ("240p", "360p", "480p", "720p", "1080p", "2160p")


@dataclass
class ApiVideoEmulatorConfig:
    """Behaviour of the api.video emulator (videos, chunked source upload, upload tokens)."""

    #: API keys accepted as ``Basic base64("<key>:")`` and by ``POST /auth/api-key``.
    api_keys: set[str] = field(default_factory=lambda: {"chunkup-apivideo-key"})
    #: ``expires_in`` of access tokens from ``/auth/api-key`` and ``/auth/refresh``.
    access_token_ttl_secs: int = 3600
    #: Smallest chunk api.video takes, except the last one (5 MiB, its docs).
    min_chunk_bytes: int = 5 * MIB
    #: Largest file part in one request (200 MiB: ``uploaded-file-too-large``).
    max_chunk_bytes: int = 200 * MIB
    #: Most parts in ``Content-Range: part N/M`` mode.
    max_parts: int = 10000
    #: Largest ``total_bytes`` of a ``Content-Range: bytes`` upload (api.video's documented maximum).
    max_total_bytes: int = 52_428_800_000
    #: Time from the upload's completion to every quality encoded; 0: encoded at once.
    encoding_seconds: float = 4.0
    #: Time from the upload's completion to ``playable`` (the lowest quality encoded).
    playable_after_secs: float = 1.0
    #: How encoding ends: ``"encoded"``, or ``"failed"`` (the highest quality fails); per-video overrides win.
    encoding_outcome: str = "encoded"
    #: Fraction (0..1) of uploaded videos whose encoding fails, drawn when the upload completes from
    #: the fault injector's seeded sequence; on top of ``encoding_outcome``, under per-video overrides.
    encoding_failure_rate: float = 0.0
    #: Qualities encoded for HLS, and for MP4 when the video has ``mp4Support``, lowest first.
    qualities: list[str] = field(default_factory=lambda: ["240p", "360p", "480p", "720p", "1080p"])
    #: Requests per window, as api.video's production limits per minute: source uploads
    #: (``/videos/{id}/source``, ``/upload``), other writes (POST/PATCH/DELETE), reads (GET).
    upload_rate_limit: int = 100
    write_rate_limit: int = 200
    read_rate_limit: int = 500
    rate_limit_window_secs: float = 60.0


#: SelfCommunity's per-kind limits (image 5 MB, document 50 MB), keyed by the chunk's form field;
#: stock django-chunked-upload's ``file`` has none.
DEFAULT_CONTENT_RANGE_SIZE_LIMITS: dict[str, int | None] = {"image": 5 * MIB, "document": 50 * MIB, "file": None}
#: What the complete call's ``success_status`` may be: SelfCommunity documents 201, stock django answers 200.
CONTENT_RANGE_SUCCESS_STATUSES = (200, 201)


@dataclass
class ContentRangeEmulatorConfig:
    """Behaviour of the ``Content-Range`` + ``upload_id`` emulator (SelfCommunity, django-chunked-upload)."""

    #: ``Authorization: Bearer`` tokens accepted; each one is its own user (uploads are per user).
    bearer_tokens: set[str] = field(default_factory=lambda: {"chunkup-content-range-token"})
    chunk_path: str = "/api/v2/media/upload/chunk/"
    complete_path: str = "/api/v2/media/upload/complete/"
    #: Multipart fields that carry the chunk, first match wins: SelfCommunity's ``image`` and
    #: ``document``, stock django-chunked-upload's ``file``.
    file_fields: list[str] = field(default_factory=lambda: ["image", "document", "file"])
    #: Largest chunk per request (SelfCommunity: 204800). None: unlimited, as stock django; PATCH
    #: null restores the default, so lift it over HTTP with a large number.
    max_chunk_bytes: int | None = 204800
    #: Largest file per chunk field (a field missing here, or None, has no limit).
    size_limits: dict[str, int | None] = field(default_factory=lambda: dict(DEFAULT_CONTENT_RANGE_SIZE_LIMITS))
    #: ``CHUNKED_UPLOAD_MAX_BYTES``: largest file whatever the field; None is unlimited.
    max_bytes: int | None = None
    #: ``CHUNKED_UPLOAD_EXPIRATION_DELTA``, counted from the upload's first chunk.
    expiration_secs: int = 86400
    #: Status of an accepted chunk and of a completed upload.
    success_status: int = 201
    #: Refuse a chunk without ``Content-Range`` (stock default: take it as the whole file).
    fail_if_no_header: bool = False


@dataclass
class EmulatorConfig:
    """Emulator process settings plus one section per emulated API.

    ``data_dir``, ``host`` and ``port`` are fixed once the server started (``EmulatorServer``
    fills in the real port and data directory); everything under ``x``, ``apivideo`` and
    ``content_range`` can change at any time.
    """

    data_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0
    x: XEmulatorConfig = field(default_factory=XEmulatorConfig)
    apivideo: ApiVideoEmulatorConfig = field(default_factory=ApiVideoEmulatorConfig)
    content_range: ContentRangeEmulatorConfig = field(default_factory=ContentRangeEmulatorConfig)


#: Top-level fields a PATCH may not change: they are bound when the server starts.
STARTUP_ONLY_FIELDS = frozenset({"data_dir", "host", "port"})


class ConfigPatchError(ValueError):
    """A config patch names an unknown field or has a value of the wrong type."""


def config_to_dict(obj: Any) -> Any:
    """JSON-safe view of a config object (sets become sorted lists, paths strings)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: config_to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, dict):
        return {str(k): config_to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


def apply_config_patch(config: EmulatorConfig, patch: dict[str, Any]) -> None:
    """Apply a JSON merge patch (RFC 7386) to ``config`` in place.

    The whole patch is validated on a copy first, so a bad patch changes nothing. ``null`` resets
    a field to its default, or removes a key from a dict field.
    """
    if not isinstance(patch, dict):
        raise ConfigPatchError("the config patch must be a JSON object")
    for name in STARTUP_ONLY_FIELDS & patch.keys():
        raise ConfigPatchError(f"{name} is fixed once the server started")
    # One level of copies is enough: patched values are replaced, never mutated in place.
    sections = {
        f.name: dataclasses.replace(getattr(config, f.name))
        for f in dataclasses.fields(config)
        if _is_section(getattr(config, f.name))
    }
    trial = dataclasses.replace(config, **sections)
    _patch_dataclass(trial, patch, path="")
    validate_x_config(trial.x)
    validate_apivideo_config(trial.apivideo)
    validate_content_range_config(trial.content_range)
    # Validation passed: apply to the live objects so references held elsewhere see the change.
    _patch_dataclass(config, patch, path="")


def restore_config(target: Any, baseline: Any) -> None:
    """Set ``target``'s runtime fields back to ``baseline``'s values, in place.

    In place, because handlers and tests hold references to the live objects (``config.x``).
    """
    for f in dataclasses.fields(target):
        if f.name in STARTUP_ONLY_FIELDS:
            continue
        value = getattr(baseline, f.name)
        if dataclasses.is_dataclass(value):
            restore_config(getattr(target, f.name), value)
        else:
            setattr(target, f.name, copy.deepcopy(value))


def validate_x_config(x: XEmulatorConfig) -> None:
    """Reject values the emulator cannot act on (negative limits, unknown outcome, ...)."""
    if x.processing_outcome not in ("succeeded", "failed"):
        raise ConfigPatchError("x.processing_outcome must be 'succeeded' or 'failed'")
    if not 0 <= x.processing_failure_rate <= 1:
        raise ConfigPatchError("x.processing_failure_rate must be between 0 and 1")
    for name in (
        "expires_after_secs",
        "max_segment_bytes",
        "processing_seconds",
        "check_after_secs",
        "rate_limit",
        "status_rate_limit",
        "post_rate_limit",
        "read_rate_limit",
        "duplicate_post_window_secs",
        "oauth1_timestamp_tolerance_secs",
    ):
        if getattr(x, name) < 0:
            raise ConfigPatchError(f"x.{name} must not be negative")
    if x.rate_limit_window_secs <= 0:
        raise ConfigPatchError("x.rate_limit_window_secs must be positive")
    if x.max_post_length <= 0:
        raise ConfigPatchError("x.max_post_length must be positive")
    if not re.fullmatch(r"[0-9]{1,19}", x.user_id):
        raise ConfigPatchError("x.user_id must match ^[0-9]{1,19}$")
    if not x.user_username or not x.user_name:
        raise ConfigPatchError("x.user_username and x.user_name must not be empty")
    for category, limit in x.size_limits.items():
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ConfigPatchError(f"x.size_limits.{category} must be a non-negative integer")
    for name in ("oauth1_consumers", "oauth1_tokens"):
        if not all(isinstance(v, str) for v in getattr(x, name).values()):
            raise ConfigPatchError(f"x.{name} values must be strings")


def validate_apivideo_config(config: ApiVideoEmulatorConfig) -> None:
    """Reject values the api.video emulator cannot act on."""
    if config.encoding_outcome not in ("encoded", "failed"):
        raise ConfigPatchError("apivideo.encoding_outcome must be 'encoded' or 'failed'")
    if not 0 <= config.encoding_failure_rate <= 1:
        raise ConfigPatchError("apivideo.encoding_failure_rate must be between 0 and 1")
    for name in (
        "access_token_ttl_secs",
        "min_chunk_bytes",
        "max_total_bytes",
        "encoding_seconds",
        "playable_after_secs",
        "upload_rate_limit",
        "write_rate_limit",
        "read_rate_limit",
    ):
        if getattr(config, name) < 0:
            raise ConfigPatchError(f"apivideo.{name} must not be negative")
    for name in ("max_chunk_bytes", "max_parts", "rate_limit_window_secs"):
        if getattr(config, name) <= 0:
            raise ConfigPatchError(f"apivideo.{name} must be positive")
    unknown = [q for q in config.qualities if q not in APIVIDEO_QUALITIES]
    if unknown or not config.qualities or len(set(config.qualities)) != len(config.qualities):
        raise ConfigPatchError(f"apivideo.qualities must be distinct values out of {', '.join(APIVIDEO_QUALITIES)}")


def validate_content_range_config(config: ContentRangeEmulatorConfig) -> None:
    """Reject values the Content-Range emulator cannot act on."""
    for name in ("chunk_path", "complete_path"):
        path = getattr(config, name)
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("/_emulator"):
            raise ConfigPatchError(f"content_range.{name} must be a path starting with / (outside /_emulator)")
    if config.chunk_path == config.complete_path:
        raise ConfigPatchError("content_range.chunk_path and complete_path must differ")
    if not config.file_fields or not all(isinstance(f, str) and f for f in config.file_fields):
        raise ConfigPatchError("content_range.file_fields must be a non-empty list of field names")
    for name in ("max_chunk_bytes", "max_bytes"):
        if not _optional_count(getattr(config, name)):
            raise ConfigPatchError(f"content_range.{name} must be null or a non-negative integer")
    for kind, limit in config.size_limits.items():
        if not _optional_count(limit):
            raise ConfigPatchError(f"content_range.size_limits.{kind} must be null or a non-negative integer")
    if config.expiration_secs < 0:
        raise ConfigPatchError("content_range.expiration_secs must not be negative")
    if config.success_status not in CONTENT_RANGE_SUCCESS_STATUSES:
        raise ConfigPatchError("content_range.success_status must be 200 or 201")


def _optional_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _is_section(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _patch_dataclass(target: Any, patch: dict[str, Any], path: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(target)}
    for key, value in patch.items():
        where = f"{path}{key}"
        if key not in fields:
            raise ConfigPatchError(f"unknown config field {where!r}")
        current = getattr(target, key)
        if value is None:
            setattr(target, key, _default_of(fields[key]))
        elif dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigPatchError(f"{where} must be an object")
            _patch_dataclass(current, value, path=f"{where}.")
        else:
            setattr(target, key, _coerce(current, value, where))


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def _coerce(current: Any, value: Any, where: str) -> Any:
    """Check ``value`` against the type of the field's current value and convert it."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigPatchError(f"{where} must be true or false")
        return value
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigPatchError(f"{where} must be a number")
        if isinstance(current, int) and not isinstance(value, int):
            if not float(value).is_integer():
                raise ConfigPatchError(f"{where} must be an integer")
            return int(value)
        return type(current)(value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise ConfigPatchError(f"{where} must be a string")
        return value
    if isinstance(current, (set, list)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigPatchError(f"{where} must be a list of strings")
        return set(value) if isinstance(current, set) else list(value)
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise ConfigPatchError(f"{where} must be an object")
        merged = dict(current)
        for k, v in value.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return merged
    if current is None or isinstance(current, Path):
        return value
    raise ConfigPatchError(f"{where} cannot be patched")
