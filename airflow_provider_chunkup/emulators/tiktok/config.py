"""Settings of the TikTok Content Posting API emulator (the ``tiktok`` section of the config)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from ..core.config import ApiConfig, ConfigPatchError, fraction

#: The privacy levels a creator may offer (``creator_info``'s ``privacy_level_options``).
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
#: The scopes TikTok grants for posting.
SCOPES = ("video.publish", "video.upload")


@dataclass
class TikTokEmulatorConfig(ApiConfig):
    """Behaviour of the TikTok Content Posting API front door (``/v2/post/publish/...``, ``/tiktok-upload/``)."""

    #: User access tokens accepted as ``Authorization: Bearer <token>`` (401 access_token_invalid otherwise).
    tokens: list[str] = field(default_factory=lambda: ["tiktok-token"])
    #: Scopes every token holds (401 scope_not_authorized when an endpoint's is missing).
    scopes: list[str] = field(default_factory=lambda: list(SCOPES))
    #: What ``creator_info`` offers; a direct post with another ``privacy_level`` is 403.
    privacy_level_options: list[str] = field(default_factory=lambda: list(PRIVACY_LEVELS))
    #: False: an unaudited client, whose direct posts must be ``SELF_ONLY`` (403 otherwise).
    audited: bool = True
    #: ``creator_info``'s ``max_video_post_duration_sec``.
    max_video_post_duration_sec: int = 600
    #: Lifetime of an ``upload_url`` from init (403 after it).
    upload_url_expiry_secs: int = 3600
    #: Time from the last chunk to ``PUBLISH_COMPLETE`` / ``SEND_TO_USER_INBOX`` (``PROCESSING_DOWNLOAD`` meanwhile).
    processing_secs: float = 1.0
    #: Fraction (0..1) of uploaded posts that end ``FAILED``, drawn when the last chunk arrives.
    failure_rate: float = 0.0
    #: Inbox (draft) uploads a token may have pending, and direct posts it may make, per ``spam_window_secs``
    #: (a day; 403 ``spam_risk_too_many_pending_share`` / ``spam_risk_too_many_posts`` beyond).
    max_pending_shares: int = 5
    max_daily_posts: int = 15
    spam_window_secs: float = 86400.0
    #: Requests per token and window: init (direct and inbox together) and status fetch (429 beyond).
    init_rate_limit: int = 6
    status_rate_limit: int = 30
    rate_limit_window_secs: float = 60.0

    def validate(self) -> None:
        """Reject values the TikTok emulator cannot act on."""
        for name in ("tokens", "scopes", "privacy_level_options"):
            value = getattr(self, name)
            if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
                raise ConfigPatchError(f"tiktok.{name} must be a list of non-empty strings")
        unknown = [level for level in self.privacy_level_options if level not in PRIVACY_LEVELS]
        if unknown:
            raise ConfigPatchError(f"tiktok.privacy_level_options: unknown {unknown}; use {list(PRIVACY_LEVELS)}")
        if not 0 <= self.failure_rate <= 1:
            raise ConfigPatchError("tiktok.failure_rate must be between 0 and 1")
        for name in ("processing_secs", "max_pending_shares", "max_daily_posts", "init_rate_limit",
                     "status_rate_limit"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ConfigPatchError(f"tiktok.{name} must not be negative")
        for name in ("upload_url_expiry_secs", "max_video_post_duration_sec", "spam_window_secs",
                     "rate_limit_window_secs"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ConfigPatchError(f"tiktok.{name} must be positive")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--tiktok-token", action="append", dest="tiktok_tokens", metavar="TOKEN",
            help="accept this TikTok user access token (repeatable; replaces the default tiktok-token)",
        )  # fmt: skip
        parser.add_argument(
            "--tiktok-processing-secs", type=float, metavar="SECS",
            help="TikTok: time from the last chunk to PUBLISH_COMPLETE or SEND_TO_USER_INBOX (default 1)",
        )  # fmt: skip
        parser.add_argument(
            "--tiktok-failure-rate", type=fraction, metavar="R",
            help="TikTok: fraction of uploaded posts whose status ends FAILED",
        )  # fmt: skip
        parser.add_argument(
            "--tiktok-unaudited", action="store_true", default=None,
            help="TikTok: an unaudited client (direct posts must be SELF_ONLY)",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.tiktok_tokens:
            self.tokens = list(args.tiktok_tokens)
        if args.tiktok_processing_secs is not None:
            self.processing_secs = args.tiktok_processing_secs
        if args.tiktok_failure_rate is not None:
            self.failure_rate = args.tiktok_failure_rate
        if args.tiktok_unaudited:
            self.audited = False
