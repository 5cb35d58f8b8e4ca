"""The JSON-safe records that travel in XCom."""

import json

import pytest

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.session import ProcessingStatus, UploadResult, UploadSession


def session() -> UploadSession:
    return UploadSession(api="x", media_id="1", total_bytes=10, chunk_size=4, remote={"dialect": "v2"})


@pytest.mark.parametrize("form", [lambda s: s, lambda s: s.to_dict(), lambda s: json.dumps(s.to_dict()),
                                  lambda s: repr(s.to_dict())], ids=["object", "dict", "json", "jinja-repr"])
def test_session_round_trips_every_form_xcom_may_give(form):
    assert UploadSession.from_dict(form(session())) == session()


def test_unknown_keys_are_ignored_and_missing_ones_named():
    assert UploadSession.from_dict({**session().to_dict(), "added_later": 1}) == session()
    with pytest.raises(ConfigurationError, match="missing media_id, total_bytes, chunk_size"):
        UploadSession.from_dict({"api": "x"})
    with pytest.raises(ConfigurationError, match="got list"):
        UploadSession.from_dict([1, 2])


def test_plan_and_expiry():
    s = session()
    assert s.segment_count == 3
    assert not s.expired()
    s.expires_at = 1.0
    assert s.expired()


def test_processing_status_reason_is_the_platforms_words():
    failed = ProcessingStatus(state="failed", error={"code": 1, "name": "InvalidMedia", "message": "Unsupported video"})
    assert failed.failed and not failed.done
    assert failed.reason() == "InvalidMedia 1: Unsupported video"
    assert ProcessingStatus(state="failed", error={"detail": "too long"}).reason() == "too long"
    assert ProcessingStatus(state="failed").reason() == "no reason given"
    assert ProcessingStatus(state="none").done


def test_result_without_processing_is_ready():
    result = UploadResult(api="x", media_id="1", size=10, transfer_seconds=0.5)
    assert result.processing_status.state == "none"
    assert result.mib_per_second == pytest.approx(10 / 0.5 / 2**20)


def test_logs_describe_each_plan_kind_in_its_own_terms():
    from airflow_provider_chunkup.protocols.chunking import (
        MiB,
        ShortTailPlan,
        WindowPlan,
        plan_floor_merged,
        plan_from_parts,
    )

    fixed = UploadSession(api="x", media_id="1", total_bytes=1000, chunk_size=300)
    fixed.mark_stored(0)
    assert (fixed.layout(), fixed.progress_text()) == ("4 segments of 300 bytes", "1 of 4 segments")
    merged = UploadSession(api="tiktok", media_id="2", total_bytes=1000, chunk_size=300)
    merged.use_plan(plan_floor_merged(1000, 300))
    assert merged.layout() == "3 chunks of 300 bytes, the remainder in the last"
    parts = UploadSession(api="linkedin", media_id="3", total_bytes=1000, chunk_size=1)
    parts.use_plan(plan_from_parts(1000, [(0, 499), (500, 999)]))
    assert parts.layout() == "the 2 parts the server handed out"
    windows = UploadSession(api="facebook", media_id="4", total_bytes=1000, chunk_size=1)
    windows.use_plan(WindowPlan(1000, 256))
    windows.committed_bytes = 512
    assert windows.layout() == "windows the server dictates, up to 256 bytes each"
    assert windows.progress_text() == "512 of 1000 bytes"  # not "0 of 4 segments": no segment is recorded
    tail = UploadSession(api="apivideo", media_id="5", total_bytes=18 * MiB, chunk_size=1)
    tail.use_plan(ShortTailPlan(18 * MiB, 6 * MiB))
    assert tail.layout() == f"4 parts of up to {6 * MiB} bytes, the last of {MiB}"
    assert UploadSession.from_dict(tail.to_dict()).plan == ShortTailPlan(18 * MiB, 6 * MiB)
