"""Settings of the Google Cloud Storage (JSON API uploads) emulator (the ``gcs`` section of the config)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import ClassVar

from ..core.config import ConfigPatchError
from ..google_resumable.config import ResumableConfig

#: GCS's largest object: 5 TiB.
MAX_OBJECT_BYTES = 5 * 1024**4


@dataclass
class GcsEmulatorConfig(ResumableConfig):
    """Behaviour of the GCS JSON API front door: resumable object uploads, object metadata and download.

    Tokens: ``access_tokens`` below, and those the YouTube section's ``POST /token`` issues with a storage scope.
    """

    section: ClassVar[str] = "gcs"

    #: Bearer tokens that never expire and carry every scope.
    access_tokens: list[str] = field(default_factory=lambda: ["gcs-token"])
    #: Buckets that exist (404 for others); empty: any name is a bucket.
    buckets: list[str] = field(default_factory=list)
    max_size: int = MAX_OBJECT_BYTES
    #: google-resumable-media rejects a final 201: GCS answers 200.
    completion_status: int = 200

    def validate(self) -> None:
        super().validate()
        if not (isinstance(self.buckets, list) and all(isinstance(b, str) and b for b in self.buckets)):
            raise ConfigPatchError("gcs.buckets must be a list of bucket names")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--gcs-token", action="append", dest="gcs_tokens", metavar="TOKEN",
            help="accept this GCS access token (repeatable; replaces the default gcs-token)",
        )  # fmt: skip
        parser.add_argument(
            "--gcs-bucket", action="append", dest="gcs_buckets", metavar="NAME",
            help="GCS: a bucket that exists (repeatable; without any, every name is a bucket)",
        )  # fmt: skip
        parser.add_argument(
            "--gcs-no-partial-persist", action="store_true",
            help="GCS: keep a misaligned middle chunk whole (Google keeps its 256 KiB-aligned prefix)",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.gcs_tokens:
            self.access_tokens = list(args.gcs_tokens)
        if args.gcs_buckets:
            self.buckets = list(args.gcs_buckets)
        if args.gcs_no_partial_persist:
            self.persist_partial = False
