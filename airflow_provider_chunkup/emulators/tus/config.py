"""Settings of the tus emulator (the ``tus`` section of the config): defaults, validation, flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ..core.config import ApiConfig, ConfigPatchError

#: Every tus 1.0.0 extension the emulator implements, as ``Tus-Extension`` lists them.
TUS_EXTENSIONS = (
    "creation", "creation-with-upload", "creation-defer-length", "termination", "expiration", "checksum",
    "concatenation",
)  # fmt: skip
#: ``Upload-Checksum`` algorithms it can verify (sha1 is the one the spec makes mandatory).
TUS_CHECKSUM_ALGORITHMS = ("sha1", "sha256", "md5")


@dataclass
class TusEmulatorConfig(ApiConfig):
    """Behaviour of the generic tus 1.0.0 server."""

    #: Where uploads are created (``POST``) and live (``<path><id>``); starts and ends with ``/``.
    path: str = "/files/"
    #: Extensions served and advertised; leave one out to test a client's fallback.
    extensions: list[str] = field(default_factory=lambda: list(TUS_EXTENSIONS))
    #: ``Tus-Checksum-Algorithm``, a subset of sha1, sha256, md5.
    checksum_algorithms: list[str] = field(default_factory=lambda: list(TUS_CHECKSUM_ALGORITHMS))
    #: ``Tus-Max-Size``: largest upload (413 beyond); None is unlimited (and not advertised).
    max_size: int | None = None
    #: Largest PATCH body (413, nothing written); None is unlimited.
    max_chunk_bytes: int | None = None
    #: Lifetime of an unfinished upload from its creation (``Upload-Expires``; 410 after it), with ``expiration`` on.
    expiry_secs: int = 86400
    #: ``Location`` as an absolute URL instead of a path (clients must resolve both).
    absolute_location: bool = False
    #: Bearer tokens accepted (``Authorization: Bearer <token>`` on every request but OPTIONS, 401 otherwise), as
    #: hosted tus endpoints ask; None: no auth, as a bare tus server.
    bearer_tokens: list[str] | None = None

    def validate(self) -> None:
        """Reject values the tus emulator cannot act on."""
        path = self.path
        if not isinstance(path, str) or not path.startswith("/") or not path.endswith("/") or len(path) < 2 \
                or path.startswith("/_emulator"):
            raise ConfigPatchError("tus.path must be a path starting and ending with / (outside /_emulator)")
        unknown = sorted(set(self.extensions) - set(TUS_EXTENSIONS))
        if unknown:
            raise ConfigPatchError(f"tus.extensions: unknown {unknown}; known: {', '.join(TUS_EXTENSIONS)}")
        if "creation-with-upload" in self.extensions and "creation" not in self.extensions:
            raise ConfigPatchError("tus.extensions: creation-with-upload needs creation")
        unknown = sorted(set(self.checksum_algorithms) - set(TUS_CHECKSUM_ALGORITHMS))
        if unknown or not self.checksum_algorithms:
            raise ConfigPatchError(
                f"tus.checksum_algorithms must be a non-empty subset of {', '.join(TUS_CHECKSUM_ALGORITHMS)}"
            )
        for name in ("max_size", "max_chunk_bytes"):
            value = getattr(self, name)
            if value is not None and not _positive(value):
                raise ConfigPatchError(f"tus.{name} must be null or a positive integer")
        if not _positive(self.expiry_secs):
            raise ConfigPatchError("tus.expiry_secs must be a positive integer")
        tokens = self.bearer_tokens
        if tokens is not None and not (isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens)):
            raise ConfigPatchError("tus.bearer_tokens must be null or a list of non-empty strings")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--tus-expiry-secs", type=int, metavar="SECS",
            help="tus: lifetime of an unfinished upload (Upload-Expires; 410 after it; default 86400)",
        )  # fmt: skip
        parser.add_argument(
            "--tus-extensions", type=extension_list, metavar="LIST",
            help=f"tus: comma-separated extensions to serve (default all: {','.join(TUS_EXTENSIONS)}; "
            "empty: core protocol only)",
        )  # fmt: skip
        parser.add_argument("--tus-max-size", type=int, metavar="BYTES", help="tus: Tus-Max-Size (default unlimited)")
        parser.add_argument(
            "--tus-absolute-location", action="store_true", default=None,
            help="tus: answer creations with an absolute Location (default: a path)",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.tus_expiry_secs is not None:
            self.expiry_secs = args.tus_expiry_secs
        if args.tus_extensions is not None:
            self.extensions = list(args.tus_extensions)
        if args.tus_max_size is not None:
            self.max_size = args.tus_max_size
        if args.tus_absolute_location:
            self.absolute_location = True


def extension_list(text: str) -> list[str]:
    """An argparse type: comma-separated tus extensions, each one the emulator knows."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in TUS_EXTENSIONS]
    if unknown:
        known = ", ".join(TUS_EXTENSIONS)
        raise argparse.ArgumentTypeError(f"unknown tus extension(s) {', '.join(unknown)}: expected {known}")
    return names


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
