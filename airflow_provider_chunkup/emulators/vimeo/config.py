"""Settings of the Vimeo (API 3.4) emulator (the ``vimeo`` section of the config): defaults, validation, flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ..core.config import ApiConfig, ConfigPatchError, fraction


@dataclass
class VimeoEmulatorConfig(ApiConfig):
    """Behaviour of the Vimeo (API 3.4) front door: ``POST /me/videos``, its tus upload link, video status."""

    #: Where the API is mounted (the base URL a client uses is ``http://host:port<prefix>``); api.video's
    #: emulator already serves ``/videos/...`` at the root.
    prefix: str = "/vimeo"
    #: Access tokens accepted as ``Authorization: Bearer <token>`` (401, error_code 8002, otherwise).
    tokens: list[str] = field(default_factory=lambda: ["vimeo-token"])
    #: Largest ``upload.size`` the account's quota takes (403, error_code 4102, beyond); None: no quota.
    max_size: int | None = None
    #: Time from the upload's last byte to ``transcode.status: complete``; 0: at once.
    transcode_secs: float = 1.0
    #: Fractions (0..1) of finished uploads that end ``upload.status: error`` (the file was not usable) or
    #: ``transcode.status: error``, drawn when the last byte arrives from the fault injector's seeded sequence.
    upload_failure_rate: float = 0.0
    transcode_failure_rate: float = 0.0
    #: Lifetime of an unfinished upload link from the video's creation (``Upload-Expires``; 410 after it).
    upload_link_expiry_secs: int = 86400
    #: API requests (not the upload link's) per window: ``X-RateLimit-Limit``; 429 once used up.
    rate_limit: int = 250
    rate_limit_window_secs: float = 60.0

    def validate(self) -> None:
        """Reject values the Vimeo emulator cannot act on."""
        prefix = self.prefix
        if not isinstance(prefix, str) or not prefix.startswith("/") or prefix.endswith("/") \
                or prefix.startswith("/_emulator") or "{" in prefix:
            raise ConfigPatchError("vimeo.prefix must be a path starting with / and not ending with it "
                                   "(outside /_emulator), such as /vimeo")
        tokens = self.tokens
        if not (isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens)):
            raise ConfigPatchError("vimeo.tokens must be a list of non-empty strings")
        if self.max_size is not None and not _positive_int(self.max_size):
            raise ConfigPatchError("vimeo.max_size must be null or a positive integer")
        for name in ("upload_failure_rate", "transcode_failure_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigPatchError(f"vimeo.{name} must be between 0 and 1")
        if self.transcode_secs < 0 or self.rate_limit < 0:
            raise ConfigPatchError("vimeo.transcode_secs and vimeo.rate_limit must not be negative")
        if not _positive_int(self.upload_link_expiry_secs):
            raise ConfigPatchError("vimeo.upload_link_expiry_secs must be a positive integer")
        if self.rate_limit_window_secs <= 0:
            raise ConfigPatchError("vimeo.rate_limit_window_secs must be positive")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--vimeo-token", action="append", dest="vimeo_tokens", metavar="TOKEN",
            help="accept this Vimeo access token (repeatable; replaces the default vimeo-token)",
        )  # fmt: skip
        parser.add_argument(
            "--vimeo-transcode-secs", type=float, metavar="SECS",
            help="Vimeo: time from the last byte to transcode.status complete (default 1)",
        )  # fmt: skip
        parser.add_argument(
            "--vimeo-transcode-failure-rate", type=fraction, metavar="R",
            help="Vimeo: fraction of uploaded videos whose transcode.status ends error",
        )  # fmt: skip
        parser.add_argument(
            "--vimeo-max-size", type=int, metavar="BYTES", help="Vimeo: the quota: largest upload.size (403 beyond)"
        )

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.vimeo_tokens:
            self.tokens = list(args.vimeo_tokens)
        if args.vimeo_transcode_secs is not None:
            self.transcode_secs = args.vimeo_transcode_secs
        if args.vimeo_transcode_failure_rate is not None:
            self.transcode_failure_rate = args.vimeo_transcode_failure_rate
        if args.vimeo_max_size is not None:
            self.max_size = args.vimeo_max_size


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
