"""``chunkup-emulator`` / ``python -m airflow_provider_chunkup.emulators`` as a process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args, main
from airflow_provider_chunkup.emulators.server import STOP_TIMEOUT_SECS

LISTENING = re.compile(r"^chunkup-emulator listening on http://127\.0\.0\.1:(\d+)$")


@pytest.fixture
def run_emulator(tmp_path):
    """Start the CLI as a subprocess; always killed at the end."""
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], int]:
        port_file = tmp_path / "port"
        proc = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_chunkup.emulators", "--port", "0",
             "--port-file", str(port_file), "--data-dir", str(tmp_path / "data"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        match = LISTENING.match(line)
        assert match, f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        port = int(match.group(1))
        assert port_file.read_text().strip() == str(port)
        return proc, port

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_serves_and_stops_on_signal(run_emulator, sig):
    proc, port = run_emulator("--x-processing-seconds", "0", "--bearer-token", "cli-token")
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/_emulator/health").json() == {"ok": True}
    config = httpx.get(f"{base}/_emulator/config").json()
    assert config["x"]["processing_seconds"] == 0
    assert config["x"]["bearer_tokens"] == ["cli-token"]
    init = httpx.post(
        f"{base}/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 1},
        headers={"Authorization": "Bearer cli-token"},
    )
    assert init.status_code == 200
    started = time.monotonic()
    proc.send_signal(sig)
    assert proc.wait(3 * STOP_TIMEOUT_SECS) == 0
    # A prompt stop takes well under a second (a few on a busy machine); one that reaches the server's
    # STOP_TIMEOUT_SECS waited out its thread and forced it. Only that is a failure, not a slow machine.
    assert time.monotonic() - started < STOP_TIMEOUT_SECS
    assert proc.stdout is not None and proc.stdout.read() == ""  # exactly one line on stdout
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/_emulator/health", timeout=1)


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--x-processing-fail", "--x-check-after-secs", "3", "--x-expires-after-secs", "60", "--no-size-limits",
         "--bearer-token", "a", "--bearer-token", "b", "--port", "0"]
    )  # fmt: skip
    config = config_from_args(args)
    assert config.port == 0 and config.host == "127.0.0.1"
    assert config.x.processing_outcome == "failed"
    assert config.x.check_after_secs == 3 and config.x.expires_after_secs == 60
    assert config.x.enforce_size_limits is False
    assert config.x.bearer_tokens == {"a", "b"}
    defaults = config_from_args(build_parser().parse_args([]))
    assert defaults.port == 8787 and defaults.x.bearer_tokens == {"chunkup-emulator-token"}
    assert defaults.x.max_post_length == 280 and defaults.x.duplicate_post_window_secs == 86400


def test_cli_post_flags_map_to_config():
    args = build_parser().parse_args(["--x-max-post-length", "25000", "--x-duplicate-post-window-secs", "0"])
    config = config_from_args(args)
    assert config.x.max_post_length == 25000 and config.x.duplicate_post_window_secs == 0


def test_cli_refuses_remote_host(capsys):
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "allow_remote" in capsys.readouterr().err


def test_console_script_is_installed():
    script = os.path.join(os.path.dirname(sys.executable), "chunkup-emulator")
    assert os.path.exists(script), "pyproject's [project.scripts] should install chunkup-emulator"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "--port-file" in result.stdout


def test_cli_faults_and_seed(run_emulator, tmp_path):
    rules_file = tmp_path / "faults.json"
    rules_file.write_text(json.dumps([{"match": "initialize", "status": [500, 502], "rate": 0.5, "times": 0}]))
    _, port = run_emulator("--faults", "chunks:0.1", "--faults", f"@{rules_file}", "--fault-seed", "42")
    base = f"http://127.0.0.1:{port}"
    snapshot = httpx.get(f"{base}/_emulator/faults").json()
    assert snapshot["seed"] == 42
    assert [rule["action"] for rule in snapshot["rules"]] == ["error", "rate_limit", "drop", "error", "delay", "error"]
    headers = {"Authorization": "Bearer chunkup-emulator-token"}
    body = {"media_type": "video/mp4", "total_bytes": 1}

    def run() -> list[int]:
        return [httpx.post(f"{base}/2/media/upload/initialize", json=body, headers=headers).status_code
                for _ in range(20)]  # fmt: skip

    first = run()
    assert {200, 500, 502} <= set(first)
    # A reset restores the startup rules and restarts the seed's sequence.
    httpx.post(f"{base}/_emulator/reset").raise_for_status()
    assert run() == first


def test_cli_refuses_a_bad_fault_spec(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--faults", '[{"match": "x", "rate": 0}]'])
    assert exit_info.value.code == 2
    assert "argument --faults: rate must be a number with 0 < rate <= 1" in capsys.readouterr().err


def test_cli_tls_flags_go_together(capsys, tmp_path):
    args = build_parser().parse_args(["--tls-cert", "c.pem", "--tls-key", "k.pem"])
    assert (str(args.tls_cert), str(args.tls_key)) == ("c.pem", "k.pem")
    with pytest.raises(SystemExit) as exit_info:
        main(["--tls-cert", str(tmp_path / "c.pem")])
    assert exit_info.value.code == 2
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err
