"""Settings of the YouTube Data API v3 emulator (the ``youtube`` section of the config): defaults, validation, flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..core.config import ConfigPatchError, fraction
from ..google_resumable.config import ResumableConfig, positive_int

#: The video categories a video may be given (YouTube's assignable ones in the US).
ASSIGNABLE_CATEGORIES = ["1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"]


def _default_clients() -> dict[str, Any]:
    return {"chunkup-client": {"secret": "chunkup-secret", "refresh_tokens": ["chunkup-refresh"]}}


@dataclass
class YouTubeEmulatorConfig(ResumableConfig):
    """Behaviour of the YouTube Data API v3 front door: videos.insert (resumable), videos.list/delete, thumbnails,
    captions, and the OAuth token endpoint both Google front doors trust."""

    section: ClassVar[str] = "youtube"

    #: Bearer tokens that never expire and carry every scope.
    access_tokens: list[str] = field(default_factory=lambda: ["youtube-token"])
    #: OAuth clients ``POST /token`` serves: ``{client_id: {"secret", "refresh_tokens": [...], "scopes"?: [...]}}``.
    oauth_clients: dict[str, Any] = field(default_factory=_default_clients)
    #: Lifetime of the access tokens ``/token`` issues.
    access_token_secs: int = 3600
    #: videos.insert calls per (Pacific) day: its own quota bucket; 403 quotaExceeded once used up.
    insert_quota: int = 100
    #: Units per day for the other methods (list 1, thumbnails.set 50, captions.insert 400, videos.delete 50).
    units_quota: int = 10000
    #: Videos the channel may hold (400 uploadLimitExceeded at insert beyond); None: no limit.
    upload_limit: int | None = None
    #: Status of the answer completing an upload (the upload guide's 201; 200 also seen).
    completion_status: int = 201
    #: Time from the last byte to ``uploadStatus: processed`` / ``processingStatus: succeeded``.
    processing_secs: float = 5.0
    #: Fractions (0..1) of uploads that end ``uploadStatus: failed`` (``failure_reason``), ``rejected``
    #: (``rejection_reason``), or ``processingStatus: failed`` (``processing_failure_reason``); drawn in that order
    #: when the last byte arrives, from the fault injector's seeded sequence, shown once processing time is over.
    failure_rate: float = 0.0
    rejection_rate: float = 0.0
    processing_failure_rate: float = 0.0
    failure_reason: str = "conversion"
    rejection_reason: str = "duplicate"
    processing_failure_reason: str = "transcodeFailed"
    #: Uploads forced to private (projects created after 2020-07-28 and not audited).
    force_private: bool = False
    #: Category ids accepted (400 invalidCategoryId otherwise).
    categories: list[str] = field(default_factory=lambda: list(ASSIGNABLE_CATEGORIES))
    #: Largest thumbnail image (413 beyond) and caption file.
    thumbnail_max_bytes: int = 2 * 1024 * 1024
    caption_max_bytes: int = 100 * 1024 * 1024

    def validate(self) -> None:
        super().validate()
        clients = self.oauth_clients
        if not isinstance(clients, dict) or not all(
            isinstance(c, dict) and isinstance(c.get("secret"), str) and isinstance(c.get("refresh_tokens"), list)
            for c in clients.values()
        ):
            raise ConfigPatchError('youtube.oauth_clients must map client ids to {"secret": str, '
                                   '"refresh_tokens": [str, ...]}')  # fmt: skip
        for name in ("access_token_secs", "thumbnail_max_bytes", "caption_max_bytes"):
            if not positive_int(getattr(self, name)):
                raise ConfigPatchError(f"youtube.{name} must be a positive integer")
        for name in ("insert_quota", "units_quota"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise ConfigPatchError(f"youtube.{name} must be a non-negative integer")
        if self.upload_limit is not None and not (isinstance(self.upload_limit, int) and self.upload_limit >= 0):
            raise ConfigPatchError("youtube.upload_limit must be null or a non-negative integer")
        if self.processing_secs < 0:
            raise ConfigPatchError("youtube.processing_secs must not be negative")
        rates = [self.failure_rate, self.rejection_rate, self.processing_failure_rate]
        if not all(0 <= rate <= 1 for rate in rates):
            raise ConfigPatchError("youtube.failure_rate, rejection_rate and processing_failure_rate must be "
                                   "between 0 and 1")  # fmt: skip
        from .videos import FAILURE_REASONS, PROCESSING_FAILURE_REASONS, REJECTION_REASONS

        for name, allowed in (("failure_reason", FAILURE_REASONS), ("rejection_reason", REJECTION_REASONS),
                              ("processing_failure_reason", PROCESSING_FAILURE_REASONS)):  # fmt: skip
            if getattr(self, name) not in allowed:
                raise ConfigPatchError(f"youtube.{name} must be one of {', '.join(allowed)}")
        if not (isinstance(self.categories, list) and all(isinstance(c, str) for c in self.categories)):
            raise ConfigPatchError("youtube.categories must be a list of strings")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--youtube-token", action="append", dest="youtube_tokens", metavar="TOKEN",
            help="accept this YouTube access token (repeatable; replaces the default youtube-token)",
        )  # fmt: skip
        parser.add_argument(
            "--youtube-processing-secs", type=float, metavar="SECS",
            help="YouTube: time from the last byte to processingStatus succeeded (default 5)",
        )  # fmt: skip
        parser.add_argument(
            "--youtube-insert-quota", type=int, metavar="N", help="YouTube: videos.insert calls per day (default 100)"
        )
        parser.add_argument(
            "--youtube-upload-limit", type=int, metavar="N",
            help="YouTube: videos a channel may hold (400 uploadLimitExceeded beyond)",
        )  # fmt: skip
        parser.add_argument(
            "--youtube-failure-rate", type=fraction, metavar="R",
            help="YouTube: fraction of uploads whose processingStatus ends failed",
        )  # fmt: skip
        parser.add_argument(
            "--youtube-access-token-secs", type=int, metavar="SECS",
            help="Google OAuth: lifetime of the access tokens /token issues (default 3600)",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.youtube_tokens:
            self.access_tokens = list(args.youtube_tokens)
        if args.youtube_processing_secs is not None:
            self.processing_secs = args.youtube_processing_secs
        if args.youtube_insert_quota is not None:
            self.insert_quota = args.youtube_insert_quota
        if args.youtube_upload_limit is not None:
            self.upload_limit = args.youtube_upload_limit
        if args.youtube_failure_rate is not None:
            self.processing_failure_rate = args.youtube_failure_rate
        if args.youtube_access_token_secs is not None:
            self.access_token_secs = args.youtube_access_token_secs
