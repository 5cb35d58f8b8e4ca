"""Settings of the X emulator (the ``x`` section of the config): defaults, validation, command-line flags."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.config import KIB, MIB, ApiConfig, ConfigPatchError, fraction

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
class XEmulatorConfig(ApiConfig):
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

    def validate(self) -> None:
        """Reject values the emulator cannot act on (negative limits, unknown outcome, ...)."""
        if self.processing_outcome not in ("succeeded", "failed"):
            raise ConfigPatchError("x.processing_outcome must be 'succeeded' or 'failed'")
        if not 0 <= self.processing_failure_rate <= 1:
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
            if getattr(self, name) < 0:
                raise ConfigPatchError(f"x.{name} must not be negative")
        if self.rate_limit_window_secs <= 0:
            raise ConfigPatchError("x.rate_limit_window_secs must be positive")
        if self.max_post_length <= 0:
            raise ConfigPatchError("x.max_post_length must be positive")
        if not re.fullmatch(r"[0-9]{1,19}", self.user_id):
            raise ConfigPatchError("x.user_id must match ^[0-9]{1,19}$")
        if not self.user_username or not self.user_name:
            raise ConfigPatchError("x.user_username and x.user_name must not be empty")
        for category, limit in self.size_limits.items():
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise ConfigPatchError(f"x.size_limits.{category} must be a non-negative integer")
        for name in ("oauth1_consumers", "oauth1_tokens"):
            if not all(isinstance(v, str) for v in getattr(self, name).values()):
                raise ConfigPatchError(f"x.{name} values must be strings")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--bearer-token", action="append", dest="bearer_tokens", metavar="TOKEN",
            help="accept this OAuth 2.0 bearer token (repeatable; replaces the default token)",
        )  # fmt: skip
        parser.add_argument("--x-processing-seconds", type=float, help="time from FINALIZE to processed (default 3)")
        parser.add_argument("--x-processing-fail", action="store_true", help="make X media processing fail")
        parser.add_argument(
            "--x-processing-failure-rate", type=fraction, metavar="R", help="fraction of X media whose processing fails"
        )
        parser.add_argument("--x-check-after-secs", type=int, help="processing_info.check_after_secs (default 1)")
        parser.add_argument("--x-expires-after-secs", type=int, help="upload session lifetime (default 86400)")
        parser.add_argument("--no-size-limits", action="store_true", help="do not enforce per-category size limits")
        parser.add_argument(
            "--x-max-post-length", type=int, metavar="N",
            help="largest weighted length of a post's text (default 280; X Premium: 25000)",
        )  # fmt: skip
        parser.add_argument(
            "--x-duplicate-post-window-secs", type=float, metavar="S",
            help="refuse a post repeating a text posted this recently (default 86400; 0: never)",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.bearer_tokens:
            self.bearer_tokens = set(args.bearer_tokens)
        if args.x_processing_seconds is not None:
            self.processing_seconds = args.x_processing_seconds
        if args.x_processing_fail:
            self.processing_outcome = "failed"
        if args.x_processing_failure_rate is not None:
            self.processing_failure_rate = args.x_processing_failure_rate
        if args.x_check_after_secs is not None:
            self.check_after_secs = args.x_check_after_secs
        if args.x_expires_after_secs is not None:
            self.expires_after_secs = args.x_expires_after_secs
        if args.no_size_limits:
            self.enforce_size_limits = False
        if args.x_max_post_length is not None:
            self.max_post_length = args.x_max_post_length
        if args.x_duplicate_post_window_secs is not None:
            self.duplicate_post_window_secs = args.x_duplicate_post_window_secs
