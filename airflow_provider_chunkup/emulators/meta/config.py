"""Settings of the Meta (Graph video, Reels rupload) emulator (the ``meta`` section of the config)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from ..core.config import MIB, ApiConfig, ConfigPatchError, fraction

#: Graph's smallest video (1363022 below it).
MIN_FILE_SIZE = 1024
#: Graph's throttling codes (application, user, Page, custom): the one an exhausted window answers.
RATE_LIMIT_CODES = (4, 17, 32, 613)


@dataclass
class MetaEmulatorConfig(ApiConfig):
    """Behaviour of the Meta front door: Graph video start/transfer/finish, Reels and Instagram rupload, status."""

    #: Access tokens accepted as ``access_token`` (form or query) or ``Authorization: OAuth <token>`` (rupload).
    tokens: list[str] = field(default_factory=lambda: ["meta-token"])
    #: The first window a start answers (``end_offset``); Graph's documented one is 50 MiB.
    window_bytes: int = 50 * MIB
    #: 0..1: windows cycle through ``window_bytes`` x (1, 1 - v, 1 - v/2), so a client must follow the server.
    window_variation: float = 0.0
    #: Largest ``file_size`` a start takes (1363023 beyond); Graph documents 10 GB.
    max_file_size: int = 10 * 1024 * MIB
    #: Time from finish (Graph, Page Reels) or the last byte (Instagram) to ready / FINISHED; 0: at once.
    processing_secs: float = 1.0
    #: Fractions (0..1), drawn from the fault injector's seeded sequence: processing that ends in error; transfers
    #: answered 1363019 (transient), 1363037 (the window to resend, with ``error_data``), 1363030 (session lost).
    processing_failure_rate: float = 0.0
    transient_rate: float = 0.0
    wrong_offset_rate: float = 0.0
    session_lost_rate: float = 0.0
    #: Pages and ad accounts (``act_<id>``) the token may upload to; empty: any (1363042 for the others).
    nodes: list[str] = field(default_factory=list)
    #: A Graph upload session with no transfer for this long is lost (1363030); None: never.
    session_idle_secs: float | None = None
    #: Instagram containers left unpublished this long are ``EXPIRED`` (24 h).
    container_expiry_secs: int = 86400
    #: Longest Instagram caption.
    max_caption_chars: int = 2200
    #: Graph calls per window; past it, the Graph error of ``rate_limit_code`` (with ``X-App-Usage`` at 100).
    rate_limit: int = 200
    rate_limit_window_secs: float = 3600.0
    rate_limit_code: int = 4

    def validate(self) -> None:
        """Reject values the Meta emulator cannot act on."""
        tokens = self.tokens
        if not (isinstance(tokens, list) and all(isinstance(t, str) and t for t in tokens)):
            raise ConfigPatchError("meta.tokens must be a list of non-empty strings")
        for name in ("window_bytes", "max_file_size", "container_expiry_secs", "max_caption_chars"):
            if not _positive_int(getattr(self, name)):
                raise ConfigPatchError(f"meta.{name} must be a positive integer")
        if self.max_file_size < MIN_FILE_SIZE:
            raise ConfigPatchError(f"meta.max_file_size must be at least {MIN_FILE_SIZE} (Graph's smallest video)")
        for name in ("window_variation", "processing_failure_rate", "transient_rate", "wrong_offset_rate",
                     "session_lost_rate"):  # fmt: skip
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigPatchError(f"meta.{name} must be between 0 and 1")
        if self.window_variation >= 1:
            raise ConfigPatchError("meta.window_variation must be below 1 (a window of no bytes)")
        nodes = self.nodes
        if not (isinstance(nodes, list) and all(isinstance(n, str) and n for n in nodes)):
            raise ConfigPatchError("meta.nodes must be a list of non-empty strings (Page ids, act_<id>)")
        idle = self.session_idle_secs
        if idle is not None and (isinstance(idle, bool) or not isinstance(idle, (int, float)) or idle <= 0):
            raise ConfigPatchError("meta.session_idle_secs must be null or a positive number")
        if self.processing_secs < 0 or self.rate_limit < 0:
            raise ConfigPatchError("meta.processing_secs and meta.rate_limit must not be negative")
        if self.rate_limit_window_secs <= 0:
            raise ConfigPatchError("meta.rate_limit_window_secs must be positive")
        if self.rate_limit_code not in RATE_LIMIT_CODES:
            raise ConfigPatchError(f"meta.rate_limit_code must be one of {', '.join(map(str, RATE_LIMIT_CODES))}")

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--meta-token", action="append", dest="meta_tokens", metavar="TOKEN",
            help="accept this Meta access token (repeatable; replaces the default meta-token)",
        )  # fmt: skip
        parser.add_argument(
            "--meta-window-bytes", type=int, metavar="BYTES",
            help="Meta: the transfer window a Graph video start answers (default 50 MiB)",
        )  # fmt: skip
        parser.add_argument(
            "--meta-window-variation", type=fraction, metavar="V",
            help="Meta: windows cycle through BYTES x (1, 1-V, 1-V/2) (default 0: all alike)",
        )  # fmt: skip
        parser.add_argument(
            "--meta-processing-secs", type=float, metavar="SECS",
            help="Meta: time from finish (or the last rupload byte) to ready / FINISHED (default 1)",
        )  # fmt: skip
        parser.add_argument(
            "--meta-processing-failure-rate", type=fraction, metavar="R",
            help="Meta: fraction of videos and containers whose processing ends in error",
        )  # fmt: skip

    def apply_arguments(self, args: argparse.Namespace) -> None:
        if args.meta_tokens:
            self.tokens = list(args.meta_tokens)
        if args.meta_window_bytes is not None:
            self.window_bytes = args.meta_window_bytes
        if args.meta_window_variation is not None:
            self.window_variation = args.meta_window_variation
        if args.meta_processing_secs is not None:
            self.processing_secs = args.meta_processing_secs
        if args.meta_processing_failure_rate is not None:
            self.processing_failure_rate = args.meta_processing_failure_rate

    def window(self, index: int) -> int:
        """The size of a session's ``index``-th window (0 first)."""
        factor = (1.0, 1.0 - self.window_variation, 1.0 - self.window_variation / 2)[index % 3]
        return max(1, int(self.window_bytes * factor))


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
