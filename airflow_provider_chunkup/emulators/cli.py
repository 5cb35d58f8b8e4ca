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

from .app import APIS
from .config import EmulatorConfig
from .core.api import all_chunk_targets
from .core.fault_specs import PRESET_FORMS, FaultPlan, parse_fault_spec
from .server import EmulatorServer


def fault_spec(text: str) -> FaultPlan:
    """``--faults`` SPEC, validated (presets match each API's default paths)."""
    try:
        return parse_fault_spec(text, all_chunk_targets(APIS, EmulatorConfig()))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The process flags, then each API's (``ApiConfig.add_arguments``), then faults and logging."""
    parser = argparse.ArgumentParser(
        prog="chunkup-emulator",
        description=f"Local emulator of media upload APIs ({', '.join(api.title for api in APIS)}) "
        "for chunkup tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port; 0 picks a free one (default 8787)")
    parser.add_argument("--data-dir", type=Path, help="where received bytes go (default: a temp dir, removed on exit)")
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file once listening")
    parser.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    parser.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", type=Path, metavar="PEM", help="private key of --tls-cert")
    for api in APIS:
        api.config_type.add_arguments(parser)
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
    for api in APIS:
        getattr(config, api.name).apply_arguments(args)
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
