"""Settings of the LinkedIn Videos API emulator (the ``linkedin`` section of the config)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field

from ..core.config import ApiConfig, ConfigPatchError, fraction

#: ``LinkedIn-Version``: ``YYYYMM``, optionally ``.RR`` (a revision).
VERSION = re.compile(r"(\d{6})(\.\d{2})?")


@dataclass
class LinkedInEmulatorConfig(ApiConfig):
    """Behaviour of the LinkedIn Videos API front door (``/rest/videos``, ``/linkedin-upload/``)."""

    #: Access tokens accepted as ``Authorization: Bearer <token>`` (401 otherwise).
    tokens: list[str] = field(default_factory=lambda: ["linkedin-token"])
    #: Owners (member or organization URNs) the tokens may post as (403 for another).
    owners: list[str] = field(default_factory=lambda: ["urn:li:person:chunkup", "urn:li:organization:2414183"])
    #: The oldest ``LinkedIn-Version`` still active (older: 426 NONEXISTENT_VERSION); missing: 400 VERSION_MISSING.
    oldest_version: str = "202411"
    #: Whether ``X-Restli-Protocol-Version: 2.0.0`` is required on the API (400 without it).
    require_restli_protocol: bool = True
    #: Bytes per upload part (LinkedIn's 4 MiB); the last part is shorter.
    part_bytes: int = 4 * 1024 * 1024
    #: Largest ``fileSizeBytes`` init takes (400 beyond).
    max_file_bytes: int = 5 * 1024**3
    #: Lifetime of the signed upload URLs from init (``uploadUrlsExpireAt``; 403 after it).
    upload_url_expiry_secs: int = 86400
    #: Time from finalize to ``AVAILABLE`` (``PROCESSING`` meanwhile).
    processing_secs: float = 1.0
    #: Fraction (0..1) of finalized videos that end ``PROCESSING_FAILED``, drawn at finalize.
    failure_rate: float = 0.0
    #: API requests (not the upload URLs') per token and window; 429 once used up.
    rate_limit: int = 1000
    rate_limit_window_secs: float = 86400.0

    def validate(self) -> None:
        """Reject values the LinkedIn emulator cannot act on."""
        for name in ("tokens", "owners"):
            value = getattr(self, name)
            if not (isinstance(value, list) and all(isinstance(v, str) and v for v in value)):
                raise ConfigPatchError(f"linkedin.{name} must be a list of non-empty strings")
        if not isinstance(self.oldest_version, str) or not VERSION.fullmatch(self.oldest_version):
            raise ConfigPatchError("linkedin.oldest_version must be YYYYMM, such as 202411")
        for name in ("part_bytes", "max_file_bytes", "upload_url_expiry_secs", "rate_limit_window_secs"):
            if getattr(self, name) <= 0:
                raise ConfigPatchError(f"linkedin.{name} must be positive")
        if not 0 <= self.failure_rate <= 1:
            raise ConfigPatchError("linkedin.failure_rate must be between 0 and 1")
        if self.processing_secs < 0 or self.rate_limit < 0:
            raise ConfigPatchError("linkedin.processing_secs and linkedin.rate_limit must not be negative")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--linkedin-token", action="append", dest="linkedin_tokens", metavar="TOKEN",
            help="accept this LinkedIn access token (repeatable; replaces the default linkedin-token)",
        )  # fmt: skip
        parser.add_argument(
            "--linkedin-part-bytes", type=int, metavar="BYTES",
            help="LinkedIn: bytes per upload part (default 4194304)",
        )  # fmt: skip
        parser.add_argument(
            "--linkedin-processing-secs", type=float, metavar="SECS",
            help="LinkedIn: time from finalize to AVAILABLE (default 1)",
        )  # fmt: skip
        parser.add_argument(
            "--linkedin-failure-rate", type=fraction, metavar="R",
            help="LinkedIn: fraction of finalized videos ending PROCESSING_FAILED",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.linkedin_tokens:
            self.tokens = list(args.linkedin_tokens)
        if args.linkedin_part_bytes is not None:
            self.part_bytes = args.linkedin_part_bytes
        if args.linkedin_processing_secs is not None:
            self.processing_secs = args.linkedin_processing_secs
        if args.linkedin_failure_rate is not None:
            self.failure_rate = args.linkedin_failure_rate
