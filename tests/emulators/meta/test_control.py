"""The Meta front door's inspection and steering endpoints, config validation, flags, stats and reset."""

from __future__ import annotations

import os

import pytest

from airflow_provider_chunkup.emulators.cli import build_parser, config_from_args
from airflow_provider_chunkup.emulators.meta import MetaEmulatorConfig

from .helpers import CONTROL, finish, sha256, upload_all


def test_inspection_lists_videos_and_containers(graph, plain, anon):
    data = os.urandom(5000)
    answer, windows = upload_all(graph, data)
    finish(graph, answer["upload_session_id"], title="t")
    made = graph.post("/178/media", data={"media_type": "VIDEO", "upload_type": "resumable"}).json()
    videos = anon.get(f"{CONTROL}/videos").json()["videos"]
    assert [(v["id"], v["sha256"], v["windows_served"], v["title"]) for v in videos] == [
        (answer["video_id"], sha256(data), len(windows), "t")]  # fmt: skip
    containers = anon.get(f"{CONTROL}/containers").json()["containers"]
    assert [(c["id"], c["bytes"], c["status_code"]) for c in containers] == [(made["id"], 0, "IN_PROGRESS")]
    assert anon.get(f"{CONTROL}/videos/nope").json() == {"error": "no video 'nope'"}
    assert anon.get(f"{CONTROL}/containers/nope").status_code == 404
    stats = anon.get("/_emulator/stats").json()
    assert (stats["meta_videos"], stats["meta_containers"], stats["meta_windows_served"]) == (1, 1, 1)
    assert stats["meta_finished"] == 1


def test_transfer_faults_take_only_known_answers(anon):
    response = anon.post(f"{CONTROL}/transfer-faults", json={"answers": ["boom"]})
    assert response.status_code == 400 and "transient" in response.json()["error"]
    assert anon.post(f"{CONTROL}/transfer-faults", json={}).status_code == 400


def test_reset_forgets_everything(emulator, graph, anon):
    upload_all(graph, os.urandom(2048))
    anon.post(f"{CONTROL}/transfer-faults", json={"answers": ["transient"]})
    anon.post("/_emulator/reset")
    assert anon.get(f"{CONTROL}/videos").json() == {"videos": []}
    assert emulator.app.state.meta.forced == []


@pytest.mark.parametrize(
    ("patch", "word"),
    [({"tokens": ["", "x"]}, "tokens"), ({"window_bytes": 0}, "window_bytes"), ({"max_file_size": 10}, "1024"),
     ({"window_variation": 1}, "below 1"), ({"transient_rate": 2}, "transient_rate"),
     ({"processing_secs": -1}, "processing_secs"), ({"rate_limit_window_secs": 0}, "rate_limit_window_secs"),
     ({"rate_limit_code": 5}, "4, 17, 32, 613"), ({"container_expiry_secs": 0}, "container_expiry_secs"),
     ({"nodes": [""]}, "nodes"), ({"session_idle_secs": 0}, "session_idle_secs")],
)  # fmt: skip
def test_config_patches_are_validated(anon, patch, word):
    response = anon.patch("/_emulator/config", json={"meta": patch})
    assert response.status_code == 400 and word in response.json()["error"]


def test_a_config_patch_applies(anon):
    config = anon.patch("/_emulator/config", json={"meta": {"window_bytes": 4096, "window_variation": 0.25}}).json()
    assert (config["meta"]["window_bytes"], config["meta"]["window_variation"]) == (4096, 0.25)


def test_window_sizes_cycle():
    config = MetaEmulatorConfig(window_bytes=1000, window_variation=0.4)
    assert [config.window(i) for i in range(4)] == [1000, 600, 800, 1000]
    assert MetaEmulatorConfig().window(7) == 50 * 1024 * 1024


def test_cli_flags_map_to_config():
    args = build_parser().parse_args(
        ["--meta-token", "a", "--meta-token", "b", "--meta-window-bytes", "4096", "--meta-window-variation", "0.5",
         "--meta-processing-secs", "2.5", "--meta-processing-failure-rate", "0.25"]
    )  # fmt: skip
    config = config_from_args(args).meta
    assert config.tokens == ["a", "b"] and config.window_bytes == 4096 and config.window_variation == 0.5
    assert config.processing_secs == 2.5 and config.processing_failure_rate == 0.25
    config.validate()
    assert config_from_args(build_parser().parse_args([])).meta == MetaEmulatorConfig()
