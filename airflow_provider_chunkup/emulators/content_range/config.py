"""Settings of the ``Content-Range`` emulator (the ``content_range`` section of the config): defaults, validation,
flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ..core.config import MIB, ApiConfig, ConfigPatchError

#: SelfCommunity's per-kind limits (image 5 MB, document 50 MB), keyed by the chunk's form field;
#: stock django-chunked-upload's ``file`` has none.
DEFAULT_CONTENT_RANGE_SIZE_LIMITS: dict[str, int | None] = {"image": 5 * MIB, "document": 50 * MIB, "file": None}
#: What the complete call's ``success_status`` may be: SelfCommunity documents 201, stock django answers 200.
CONTENT_RANGE_SUCCESS_STATUSES = (200, 201)


@dataclass
class ContentRangeEmulatorConfig(ApiConfig):
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

    def validate(self) -> None:
        """Reject values the Content-Range emulator cannot act on."""
        for name in ("chunk_path", "complete_path"):
            path = getattr(self, name)
            if not isinstance(path, str) or not path.startswith("/") or path.startswith("/_emulator"):
                raise ConfigPatchError(f"content_range.{name} must be a path starting with / (outside /_emulator)")
        if self.chunk_path == self.complete_path:
            raise ConfigPatchError("content_range.chunk_path and complete_path must differ")
        if not self.file_fields or not all(isinstance(f, str) and f for f in self.file_fields):
            raise ConfigPatchError("content_range.file_fields must be a non-empty list of field names")
        for name in ("max_chunk_bytes", "max_bytes"):
            if not _optional_count(getattr(self, name)):
                raise ConfigPatchError(f"content_range.{name} must be null or a non-negative integer")
        for kind, limit in self.size_limits.items():
            if not _optional_count(limit):
                raise ConfigPatchError(f"content_range.size_limits.{kind} must be null or a non-negative integer")
        if self.expiration_secs < 0:
            raise ConfigPatchError("content_range.expiration_secs must not be negative")
        if self.success_status not in CONTENT_RANGE_SUCCESS_STATUSES:
            raise ConfigPatchError("content_range.success_status must be 200 or 201")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--content-range-token", action="append", dest="content_range_tokens", metavar="TOKEN",
            help="accept this bearer token on the Content-Range API (repeatable; replaces the default token)",
        )  # fmt: skip
        parser.add_argument(
            "--content-range-status", type=int, choices=[200, 201],
            help="status of accepted chunks and completes: 201 as SelfCommunity documents (default), "
            "200 as stock django",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.content_range_tokens:
            self.bearer_tokens = set(args.content_range_tokens)
        if args.content_range_status is not None:
            self.success_status = args.content_range_status


def _optional_count(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
