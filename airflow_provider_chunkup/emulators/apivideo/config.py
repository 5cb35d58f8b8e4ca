"""Settings of the api.video emulator (the ``apivideo`` section of the config): defaults, validation, flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from ..core.config import MIB, ApiConfig, ConfigPatchError, fraction

#: Qualities api.video's spec knows (``quality`` schema).
APIVIDEO_QUALITIES = ("240p", "360p", "480p", "720p", "1080p", "2160p")


@dataclass
class ApiVideoEmulatorConfig(ApiConfig):
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

    def validate(self) -> None:
        """Reject values the api.video emulator cannot act on."""
        if self.encoding_outcome not in ("encoded", "failed"):
            raise ConfigPatchError("apivideo.encoding_outcome must be 'encoded' or 'failed'")
        if not 0 <= self.encoding_failure_rate <= 1:
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
            if getattr(self, name) < 0:
                raise ConfigPatchError(f"apivideo.{name} must not be negative")
        for name in ("max_chunk_bytes", "max_parts", "rate_limit_window_secs"):
            if getattr(self, name) <= 0:
                raise ConfigPatchError(f"apivideo.{name} must be positive")
        unknown = [q for q in self.qualities if q not in APIVIDEO_QUALITIES]
        if unknown or not self.qualities or len(set(self.qualities)) != len(self.qualities):
            raise ConfigPatchError(f"apivideo.qualities must be distinct values out of {', '.join(APIVIDEO_QUALITIES)}")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--apivideo-key", action="append", dest="apivideo_keys", metavar="KEY",
            help="accept this api.video API key (repeatable; replaces the default key)",
        )  # fmt: skip
        parser.add_argument(
            "--apivideo-encoding-seconds", type=float,
            help="time from upload complete to every quality encoded (default 4)",
        )  # fmt: skip
        parser.add_argument(
            "--apivideo-encoding-fail", action="store_true", help="make api.video's highest quality fail"
        )
        parser.add_argument(
            "--apivideo-encoding-failure-rate", type=fraction, metavar="R",
            help="fraction of api.video videos whose encoding fails",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.apivideo_keys:
            self.api_keys = set(args.apivideo_keys)
        if args.apivideo_encoding_seconds is not None:
            self.encoding_seconds = args.apivideo_encoding_seconds
        if args.apivideo_encoding_fail:
            self.encoding_outcome = "failed"
        if args.apivideo_encoding_failure_rate is not None:
            self.encoding_failure_rate = args.apivideo_encoding_failure_rate
