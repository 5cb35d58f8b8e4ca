"""Settings of the Cloudflare Stream emulator (the ``cloudflare_stream`` section of the config): defaults, checks,
flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ..core.config import ApiConfig, ConfigPatchError, fraction

#: Cloudflare's tus chunk rules (``resumable-uploads.mdx``): every chunk but the last a multiple of 256 KiB,
#: from 5 MiB to 200 MiB; the last at most 200 MiB.
CHUNK_MULTIPLE = 262_144
MIN_CHUNK_BYTES = 5_242_880
MAX_CHUNK_BYTES = 209_715_200


@dataclass
class CloudflareStreamEmulatorConfig(ApiConfig):
    """Behaviour of the Cloudflare Stream front door (tus and basic uploads, video status, deletion)."""

    #: API tokens accepted as ``Authorization: Bearer <token>``.
    tokens: list[str] = field(default_factory=lambda: ["cf-token"])
    #: Account ids served (403 for others); None: any.
    account_ids: list[str] | None = None
    #: Largest ``Upload-Length`` (413 beyond): Cloudflare's 30 GB per video.
    max_size: int = 30_000_000_000
    #: The chunk rules of a PATCH (400, nothing written, when broken); lower them to test with small files.
    chunk_multiple: int = CHUNK_MULTIPLE
    min_chunk_bytes: int = MIN_CHUNK_BYTES
    max_chunk_bytes: int = MAX_CHUNK_BYTES
    #: Largest file of a basic (multipart, not tus) upload: 200 MB.
    basic_max_bytes: int = MAX_CHUNK_BYTES
    #: Lifetime of an unfinished upload URL from its creation (``Upload-Expires``, 410 after it), unless the
    #: ``expiry`` metadata says otherwise.
    upload_expiry_secs: int = 86400
    #: From the last byte: ``queued`` for ``queued_secs``, then ``inprogress`` (``pctComplete`` rising) until
    #: ``encode_secs``, then ``ready``.
    queued_secs: float = 0.5
    encode_secs: float = 2.0
    #: Fraction (0..1) of uploaded videos whose encoding ends in ``error`` (``ERR_MALFORMED_VIDEO``), drawn when
    #: the last byte arrives from the fault injector's seeded sequence.
    encode_failure_rate: float = 0.0
    #: Requests per token per window (Cloudflare's API limit: 1,200 per 5 minutes).
    rate_limit: int = 1200
    rate_limit_window_secs: float = 300.0

    def validate(self) -> None:
        """Reject values the Cloudflare Stream emulator cannot act on."""
        if not _strings(self.tokens):
            raise ConfigPatchError("cloudflare_stream.tokens must be a list of non-empty strings")
        if self.account_ids is not None and not _strings(self.account_ids):
            raise ConfigPatchError("cloudflare_stream.account_ids must be null or a list of non-empty strings")
        for name in ("max_size", "chunk_multiple", "min_chunk_bytes", "max_chunk_bytes", "basic_max_bytes",
                     "upload_expiry_secs"):  # fmt: skip
            if not _positive_int(getattr(self, name)):
                raise ConfigPatchError(f"cloudflare_stream.{name} must be a positive integer")
        if self.min_chunk_bytes > self.max_chunk_bytes:
            raise ConfigPatchError("cloudflare_stream.min_chunk_bytes must not be over max_chunk_bytes")
        if not 0 <= self.queued_secs <= self.encode_secs:
            raise ConfigPatchError("cloudflare_stream.queued_secs must be from 0 to encode_secs")
        if not 0 <= self.encode_failure_rate <= 1:
            raise ConfigPatchError("cloudflare_stream.encode_failure_rate must be between 0 and 1")
        if self.rate_limit < 0 or self.rate_limit_window_secs <= 0:
            raise ConfigPatchError("cloudflare_stream.rate_limit must not be negative, rate_limit_window_secs positive")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--cloudflare-token", action="append", dest="cloudflare_tokens", metavar="TOKEN",
            help="accept this Cloudflare API token (repeatable; replaces the default cf-token)",
        )  # fmt: skip
        parser.add_argument(
            "--cloudflare-encode-secs", type=float, metavar="SECS",
            help="Cloudflare Stream: time from the last byte to ready (default 2)",
        )  # fmt: skip
        parser.add_argument(
            "--cloudflare-encode-failure-rate", type=fraction, metavar="R",
            help="Cloudflare Stream: fraction of uploaded videos whose encoding ends in error",
        )  # fmt: skip
        parser.add_argument(
            "--cloudflare-small-chunks", action="store_true", default=None,
            help="Cloudflare Stream: chunk rules at 1/1024 scale (256-byte multiples, 5 KiB to 200 KiB) for small "
            "test files",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.cloudflare_tokens:
            self.tokens = list(args.cloudflare_tokens)
        if args.cloudflare_encode_secs is not None:
            self.encode_secs = args.cloudflare_encode_secs
            self.queued_secs = min(self.queued_secs, self.encode_secs)
        if args.cloudflare_encode_failure_rate is not None:
            self.encode_failure_rate = args.cloudflare_encode_failure_rate
        if args.cloudflare_small_chunks:
            self.chunk_multiple, self.min_chunk_bytes = CHUNK_MULTIPLE // 1024, MIN_CHUNK_BYTES // 1024
            self.max_chunk_bytes = MAX_CHUNK_BYTES // 1024


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
