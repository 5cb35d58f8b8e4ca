"""``chunkup-emulator``: serve the emulated upload APIs until SIGTERM or SIGINT.

``--faults SPEC`` (repeatable) injects faults from the start: a JSON rule or list of rules, an
object ``{"preset", "seed", "rules"}``, ``@file.json`` holding any of those, or a preset name
(``chunks:0.1``); ``--fault-seed N`` makes the faults reproducible. ``--tls-cert`` and ``--tls-key``
(PEM files) serve HTTPS, for clients that only speak https.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from .core.config import ContentRangeEmulatorConfig, EmulatorConfig
from .core.fault_specs import PRESET_FORMS, FaultPlan, parse_fault_spec
from .server import EmulatorServer


def fault_spec(text: str) -> FaultPlan:
    """``--faults`` SPEC, validated (presets match the default Content-Range chunk path)."""
    try:
        return parse_fault_spec(text, ContentRangeEmulatorConfig().chunk_path)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chunkup-emulator",
        description="Local emulator of media upload APIs (X v2 and v1.1, api.video, SelfCommunity / "
        "django-chunked-upload) for chunkup tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port; 0 picks a free one (default 8787)")
    parser.add_argument("--data-dir", type=Path, help="where received bytes go (default: a temp dir, removed on exit)")
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file once listening")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="private key of --tls-cert")
    parser.add_argument(
        "--bearer-token", action="append", dest="bearer_tokens", metavar="TOKEN",
        help="accept this OAuth 2.0 bearer token (repeatable; replaces the default token)",
    )  # fmt: skip
    parser.add_argument("--x-processing-seconds", type=float, help="time from FINALIZE to processed (default 3)")
    parser.add_argument("--x-processing-fail", action="store_true", help="make X media processing fail")
    parser.add_argument(
        "--x-processing-failure-rate", type=fraction, metavar="R", help="fraction of X media whose processing fails"
    )
    parser.add_argument("--x-check-after-secs", type=int, help="processing_info.check_after_secs (default 1)")
    parser.add_argument("--x-expires-after-secs", type=int, help="upload session lifetime (default 86400)")
    parser.add_argument("--no-size-limits", action="store_true", help="do not enforce per-category size limits")
    parser.add_argument(
        "--x-max-post-length", type=int, metavar="N",
        help="largest weighted length of a post's text (default 280; X Premium: 25000)",
    )  # fmt: skip
    parser.add_argument(
        "--x-duplicate-post-window-secs", type=float, metavar="S",
        help="refuse a post repeating a text posted this recently (default 86400; 0: never)",
    )  # fmt: skip
    parser.add_argument(
        "--apivideo-key", action="append", dest="apivideo_keys", metavar="KEY",
        help="accept this api.video API key (repeatable; replaces the default key)",
    )  # fmt: skip
    parser.add_argument(
        "--apivideo-encoding-seconds", type=float, help="time from upload complete to every quality encoded (default 4)"
    )
    parser.add_argument("--apivideo-encoding-fail", action="store_true", help="make api.video's highest quality fail")
    parser.add_argument(
        "--apivideo-encoding-failure-rate", type=fraction, metavar="R",
        help="fraction of api.video videos whose encoding fails",
    )  # fmt: skip
    parser.add_argument(
        "--content-range-token", action="append", dest="content_range_tokens", metavar="TOKEN",
        help="accept this bearer token on the Content-Range API (repeatable; replaces the default token)",
    )  # fmt: skip
    parser.add_argument(
        "--content-range-status", type=int, choices=[200, 201],
        help="status of accepted chunks and completes: 201 as SelfCommunity documents (default), 200 as stock django",
    )  # fmt: skip
    parser.add_argument(
        "--faults", action="append", type=fault_spec, default=[], metavar="SPEC",
        help="inject faults (repeatable): JSON rule(s), @file.json, or a preset: " + PRESET_FORMS,
    )  # fmt: skip
    parser.add_argument("--fault-seed", type=int, metavar="N", help="seed of the fault sequence (default: random)")
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug", "trace"]
    )
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    config = EmulatorConfig(host=args.host, port=args.port, data_dir=args.data_dir)
    x = config.x
    if args.bearer_tokens:
        x.bearer_tokens = set(args.bearer_tokens)
    if args.x_processing_seconds is not None:
        x.processing_seconds = args.x_processing_seconds
    if args.x_processing_fail:
        x.processing_outcome = "failed"
    if args.x_processing_failure_rate is not None:
        x.processing_failure_rate = args.x_processing_failure_rate
    if args.x_check_after_secs is not None:
        x.check_after_secs = args.x_check_after_secs
    if args.x_expires_after_secs is not None:
        x.expires_after_secs = args.x_expires_after_secs
    if args.no_size_limits:
        x.enforce_size_limits = False
    if args.x_max_post_length is not None:
        x.max_post_length = args.x_max_post_length
    if args.x_duplicate_post_window_secs is not None:
        x.duplicate_post_window_secs = args.x_duplicate_post_window_secs
    apivideo = config.apivideo
    if args.apivideo_keys:
        apivideo.api_keys = set(args.apivideo_keys)
    if args.apivideo_encoding_seconds is not None:
        apivideo.encoding_seconds = args.apivideo_encoding_seconds
    if args.apivideo_encoding_fail:
        apivideo.encoding_outcome = "failed"
    if args.apivideo_encoding_failure_rate is not None:
        apivideo.encoding_failure_rate = args.apivideo_encoding_failure_rate
    content_range = config.content_range
    if args.content_range_tokens:
        content_range.bearer_tokens = set(args.content_range_tokens)
    if args.content_range_status is not None:
        content_range.success_status = args.content_range_status
    return config


def faults_from_args(args: argparse.Namespace) -> tuple[list[dict[str, Any]], int | None]:
    """Every ``--faults`` rule in order, and the seed: ``--fault-seed``, else the last SPEC's."""
    rules: list[dict[str, Any]] = []
    seed = None
    for plan in args.faults:
        rules += plan.rules
        seed = plan.seed if plan.seed is not None else seed
    return rules, args.fault_seed if args.fault_seed is not None else seed


def main(argv: Sequence[str] | None = None) -> int:
    """Start the emulator, print where it listens, and serve until a signal arrives."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    logging.basicConfig(
        level=args.log_level.upper() if args.log_level != "trace" else 5,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        rules, seed = faults_from_args(args)
        server = EmulatorServer(
            config_from_args(args), allow_remote=args.allow_remote, log_level=args.log_level,
            faults=rules, fault_seed=seed, tls_cert=args.tls_cert, tls_key=args.tls_key,
        )  # fmt: skip
        server.start()
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"chunkup-emulator: {exc}", file=sys.stderr)
        return 2
    try:
        if args.port_file:
            args.port_file.write_text(f"{server.config.port}\n")
        print(f"chunkup-emulator listening on {server.url}", flush=True)
        # Event.wait with a timeout keeps the main thread responsive to signals.
        while not stop.wait(0.5):
            if not server.running:
                print("chunkup-emulator: server thread exited unexpectedly", file=sys.stderr)
                return 1
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
