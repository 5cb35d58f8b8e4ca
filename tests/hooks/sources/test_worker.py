"""open_source: a local source missing on this worker names the worker, the one that opened it, and the fix."""

from __future__ import annotations

import pytest

from airflow_provider_chunkup.errors import SourceMissing
from airflow_provider_chunkup.hooks.sources import worker
from airflow_provider_chunkup.hooks.sources.worker import open_source
from airflow_provider_chunkup.operators.resume import UploadFailedForGood, failing_for_good


@pytest.fixture(autouse=True)
def on_worker_b(monkeypatch):
    monkeypatch.setattr(worker, "this_worker", lambda: "worker-b")


def test_missing_local_file_names_this_worker_and_the_fix(tmp_path):
    with pytest.raises(SourceMissing) as info, open_source(str(tmp_path / "clip.mp4"), None) as src:
        _ = src.size
    message = str(info.value)
    assert "does not exist on worker-b, the worker running this task" in message
    assert "only that worker's disk has it" in message
    assert "object store" in message and "volume mounted at the same path on every worker" in message


def test_missing_local_file_names_the_worker_that_opened_the_upload(tmp_path):
    with pytest.raises(SourceMissing, match=r"opened on worker-a, which could read it"), \
            open_source(str(tmp_path / "clip.mp4"), None, opened_on="worker-a") as src:
        _ = src.size


def test_a_missing_source_is_not_retried(tmp_path):
    with pytest.raises(SourceMissing) as info, open_source(str(tmp_path / "clip.mp4"), None) as src:
        _ = src.size
    assert isinstance(failing_for_good(info.value), UploadFailedForGood)


def test_an_object_store_miss_keeps_its_own_message():
    with pytest.raises(SourceMissing) as info, open_source("memory://bucket/nothing-here.mp4", None) as src:
        _ = src.size
    assert "worker" not in str(info.value)


def test_a_relative_path_says_where_the_worker_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceMissing, match=r"The path is relative: the worker reads it from its own working "
                                            r"directory, .*; give an absolute path"), \
            open_source("videos/clip.mp4", None) as src:
        _ = src.size
