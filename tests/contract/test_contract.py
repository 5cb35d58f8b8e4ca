"""The contract checks, each run over every profile in ``profiles.py`` (the contract: ``__init__.py``).

A check names no API: what differs between APIs comes from the profile, and where an API cannot do something
(abort, resume from the server's state, report a status) the check asserts what it does instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk._shared.secrets_masker import redact
from test_secrets import assert_absent

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    PlanError,
    SourceMissing,
)
from airflow_provider_chunkup.protocols.checkpoint import Checkpoint, MemoryStore
from airflow_provider_chunkup.protocols.session import UploadResult, UploadSession

from .support import Api

FAST_RETRY = {"retry_backoff_initial": 0.02, "retry_backoff_max": 0.2, "retry_max_attempts": 8}
#: Multipart framing and headers a chunk request carries besides the chunk: generous, the bytes dominate.
OVERHEAD_PER_REQUEST = 2048


class Crash(Exception):
    """Stands for the worker dying, raised from the progress callback once some segments were acknowledged."""


def crash_after(segments: int, chunk_size: int) -> Callable[[int, int], None]:
    """A progress callback that crashes once ``segments`` whole chunks were acknowledged by this call."""

    def progress(done: int, total: int) -> None:
        if done >= segments * chunk_size:
            raise Crash

    return progress


def xcom(value: UploadSession | UploadResult) -> dict[str, Any]:
    """What the next task receives: the record through JSON, as XCom carries it."""
    return json.loads(json.dumps(value.to_dict()))


def comparable(result: UploadResult) -> dict[str, Any]:
    """A result without what differs between two uploads of the same file (ids, URLs, times)."""
    record = result.to_dict()
    for volatile in ("media_id", "media_key", "transfer_seconds", "expires_after_secs"):
        record.pop(volatile)
    record["details"] = sorted(record["details"])  # which facts, not their values (they name the media)
    return record


# -- capabilities -------------------------------------------------------------------------------------------

def test_capabilities_are_declared(api: Api) -> None:
    """The profile's abilities are what the hook claims: the other checks can trust them."""
    claimed = api.hook().capabilities()
    declared = api.profile.abilities
    assert claimed.parallel_segments == declared.parallel_segments
    assert claimed.processes_media == declared.processes_media
    assert (claimed.reports_committed or claimed.server_windows) == (declared.resume_from == "server")
    assert claimed.abortable == declared.abortable
    assert api.api_requests() == 0  # read from the connection's settings alone


# -- byte-exact ---------------------------------------------------------------------------------------------

SHAPES = {
    "one_chunk": lambda chunk: chunk // 3 + 1,
    "short_last": lambda chunk: 3 * chunk + 1,  # the last chunk is 1 byte
    "exact_chunks": lambda chunk: 3 * chunk,
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_byte_exact(api: Api, shape: str) -> None:
    size = SHAPES[shape](api.chunk_size)
    path = api.file(size)
    result = api.hook().upload(path, chunk_size=api.chunk_size, max_in_flight=3)
    api.assert_byte_exact(result, path)
    sent = api.chunk_requests()
    # One request per segment, and none asking what the server holds: it holds what this upload sent
    assert sent.accepted == sent.requests == api.segments(size)
    assert api.probes() == 0
    assert size <= sent.body_bytes <= size + sent.requests * OVERHEAD_PER_REQUEST
    assert len(api.remote_uploads()) == 1


# -- init, append, finalize as separate steps ---------------------------------------------------------------

@pytest.mark.parametrize("calls", ["sync", "async"])
def test_steps_equal_one_call(api: Api, calls: str) -> None:
    path = api.file(3 * api.chunk_size + 1)
    one_call = api.hook().upload(path, chunk_size=api.chunk_size)
    api.reset_stats()

    if calls == "sync":
        session = api.hook().init(path, chunk_size=api.chunk_size)
        assert session.media_id  # the remote id is in XCom before any append task runs
        assert session.media_type == api.profile.media_type  # guessed from the file name
        appended = api.hook().append(xcom(session), max_in_flight=3)
        result = api.hook().finalize(xcom(appended))
    else:
        async def steps() -> UploadResult:
            session = await api.hook().ainit(path, chunk_size=api.chunk_size)
            assert session.media_id
            appended = await api.hook().aappend(xcom(session), max_in_flight=3)
            return await api.hook().afinalize(xcom(appended))

        result = asyncio.run(steps())

    api.assert_byte_exact(one_call, path)
    api.assert_byte_exact(result, path)
    assert comparable(result) == comparable(one_call)
    assert api.chunk_requests().accepted == api.segments(path.stat().st_size)  # no segment twice
    assert len(api.remote_uploads()) == 2 and result.media_id != one_call.media_id


# -- resume -------------------------------------------------------------------------------------------------

def test_resume_from_checkpoint(api: Api) -> None:
    """Killed after two segments, the retried upload continues the same remote upload from the checkpoint."""
    path = api.file(5 * api.chunk_size + 7)
    total = api.segments(path.stat().st_size)
    store, identity = MemoryStore(), {"source": str(path)}
    with pytest.raises(Crash):  # one segment at a time: none in flight at the crash, so the counts are exact
        api.hook().upload(path, chunk_size=api.chunk_size, max_in_flight=1, abort_on_failure=False,
                          checkpoint=Checkpoint(store, identity=identity), progress=crash_after(2, api.chunk_size))
    saved = Checkpoint(store, identity=identity).session()
    assert saved is not None and saved.media_id
    recorded = api.recorded(saved)
    assert len(recorded) >= 2 and recorded == set(range(len(recorded)))
    api.reset_stats()

    checkpoint = Checkpoint(store, identity=identity)
    result = api.hook().upload(path, chunk_size=api.chunk_size, max_in_flight=3, checkpoint=checkpoint)
    api.assert_byte_exact(result, path)
    sent = api.chunk_requests()
    assert sent.accepted == total - len(recorded)  # only what the checkpoint did not record
    plan = api.plan(path.stat().st_size)
    remaining = sum(plan.segment(i).length for i in range(total) if i not in recorded)
    assert remaining <= sent.body_bytes <= remaining + sent.requests * OVERHEAD_PER_REQUEST
    assert api.remote_uploads() == {saved.media_id}  # the same remote upload, no second one

    assert checkpoint.result() == result
    api.reset_stats()
    again = api.hook().upload(path, chunk_size=api.chunk_size, checkpoint=Checkpoint(store, identity=identity))
    assert again == result and api.api_requests() == 0  # a finalized checkpoint answers alone


def test_resume_from_server_state(api: Api) -> None:
    """An append task killed half way is retried with the session init returned (nothing recorded since)."""
    path = api.file(5 * api.chunk_size + 7)
    total = api.segments(path.stat().st_size)
    session = xcom(api.hook().init(path, chunk_size=api.chunk_size))
    at_init = api.recorded(UploadSession.from_dict(session))  # what init itself sent (the first segment)
    with pytest.raises(Crash):
        api.hook().append(session, max_in_flight=1, progress=crash_after(2, api.chunk_size))
    api.reset_stats()

    appended = api.hook().append(session, max_in_flight=3)
    result = api.hook().finalize(xcom(appended))
    api.assert_byte_exact(result, path)
    sent = api.chunk_requests()
    if api.profile.abilities.resume_from == "server":
        assert sent.accepted == total - len(at_init) - 2  # the server said what it held: only the rest went
    else:  # nothing told the retry what the killed try sent: every segment the session does not record went again,
        assert sent.requests == total - len(at_init)  # and the server took it again or answered that it has it
        assert sent.accepted >= total - len(at_init) - 2
    assert len(api.remote_uploads()) == 1


# -- abort --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["hook_abort", "failed_upload"])
def test_abort(api: Api, how: str, caplog: pytest.LogCaptureFixture) -> None:
    """Where the API can abort, nothing is left behind; where it cannot, the upload stays and chunkup says so."""
    caplog.set_level(logging.INFO)
    path = api.file(4 * api.chunk_size)
    if how == "hook_abort":  # an append task died after two segments; the session is the init task's
        session = api.hook().init(path, chunk_size=api.chunk_size)
        with pytest.raises(Crash):
            api.hook().append(xcom(session), max_in_flight=1, progress=crash_after(2, api.chunk_size))
        assert api.remote_uploads() == {session.media_id}
        aborted = api.hook().abort(xcom(session))
        assert aborted == api.profile.abilities.abortable
    else:
        with pytest.raises(Crash):  # any failure; abort_on_failure is the default
            api.hook().upload(path, chunk_size=api.chunk_size, max_in_flight=1,
                              progress=crash_after(1, api.chunk_size))
        (remote_id,) = api.remote_uploads() or {None}
        session = UploadSession(api=api.profile.hook.api, media_id=remote_id or "", total_bytes=0, chunk_size=1)
    if api.profile.abilities.abortable:
        assert api.remote_uploads() == set()
        assert f"Deleted the unfinished {api.protocol().display_name} upload" in caplog.text
    else:  # the platform expires it by itself: it stays until then, and the log says why nothing was done
        assert api.remote_uploads() == {session.media_id}
        assert f"cannot abort upload {session.media_id}" in caplog.text


# -- faults -------------------------------------------------------------------------------------------------

def test_faults(connect: Callable[..., Api]) -> None:
    """About 10% of chunk requests fail (5xx before and after storing, 429 bursts, drops mid-body, delays)."""
    api = connect(**FAST_RETRY)
    api.control.post("/faults", {"preset": "chunks:0.1", "seed": 7})
    path = api.file(47 * api.chunk_size + 5)  # seed 7 first faults the 22nd chunk request, then the 28th, the 42nd
    result = api.hook().upload(path, chunk_size=api.chunk_size, max_in_flight=3)
    api.assert_byte_exact(result, path)
    assert len(api.remote_uploads()) == 1  # exactly one remote media: none doubled by a retry
    assert api.control.get("/faults")["injected"]["total"] >= 1  # the faults really happened


# -- bad input, refused before any request ------------------------------------------------------------------

def test_missing_source(api: Api) -> None:
    missing = api.tmp_path / f"missing-{api.profile.file_name}"
    for step in (lambda: api.hook().upload(missing), lambda: api.hook().init(missing)):
        with pytest.raises(SourceMissing, match=rf"{missing.name} does not exist on .+, the worker running this task"):
            step()
    assert api.api_requests() == 0


def test_connection_of_another_type(api: Api, set_connection: Callable[..., str]) -> None:
    conn_id = set_connection("contract_http", conn_type="http", host=api.control.url, password="p")
    hook_class = api.profile.hook
    with pytest.raises(ConfigurationError, match=rf"'contract_http' has type 'http', but {hook_class.__name__} needs "
                                                 rf"a '{hook_class.conn_type}' connection\. Point conn_id at a "):
        hook_class(conn_id).upload(api.file(10))
    assert api.api_requests() == 0


def test_connection_not_defined(api: Api) -> None:
    hook_class = api.profile.hook
    with pytest.raises(ConfigurationError, match=rf"'contract_nowhere' \({hook_class.conn_type}, for "
                                                 rf"{hook_class.__name__}\) is not defined\. Create it .*"
                                                 r"AIRFLOW_CONN_CONTRACT_NOWHERE"):
        hook_class("contract_nowhere").upload(api.file(10))
    assert api.api_requests() == 0


@pytest.mark.parametrize("bound", ["below_min", "above_max"])
def test_chunk_size_outside_limits(api: Api, bound: str) -> None:
    limits = api.protocol().limits
    chunk_size = limits.min_chunk_bytes - 1 if bound == "below_min" else limits.max_chunk_bytes + 1  # 0 if min is 1
    path = api.file(min(limits.max_chunk_bytes + 2, 2 * api.chunk_size))
    display = api.protocol().display_name
    for step in (lambda: api.hook().upload(path, chunk_size=chunk_size),
                 lambda: api.hook().init(path, chunk_size=chunk_size)):
        with pytest.raises(PlanError, match=rf"chunk_size={chunk_size} is outside {display}'s bounds "
                                            rf"\({limits.min_chunk_bytes}\.\.{limits.max_chunk_bytes} bytes\)\. "
                                            r"Set chunk_size within them"):
            step()
    assert api.api_requests() == 0


def test_empty_file(api: Api) -> None:
    path = api.file(0)
    if api.profile.abilities.accepts_empty:
        api.assert_byte_exact(api.hook().upload(path), path)
        return
    display = api.protocol().display_name
    for step in (lambda: api.hook().upload(path), lambda: api.hook().init(path)):
        with pytest.raises(PlanError, match=rf"empty \(0 bytes\); {display} cannot store an empty upload\. Check "
                                            r"that the task writing the file finished"):
            step()
    assert api.api_requests() == 0


# -- secrets ------------------------------------------------------------------------------------------------

def test_secrets(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = list(api.conn.secrets)
    path = api.file(2 * api.chunk_size + 1)
    store = MemoryStore()
    result = api.hook().upload(path, chunk_size=api.chunk_size, checkpoint=Checkpoint(store))
    session = api.hook().init(path, chunk_size=api.chunk_size)
    appended = api.hook().append(xcom(session))
    finalized = api.hook().finalize(xcom(appended))
    assert store["chunkup.upload"]["result"]["media_id"] == result.media_id  # the checks below see real records
    for where, record in (("the result", result.to_dict()), ("the session of init", session.to_dict()),
                          ("the session of append", appended.to_dict()), ("the split result", finalized.to_dict()),
                          ("the checkpoint", store)):
        assert_absent(secrets, where, record)

    hook = api.hook()

    async def reprs() -> dict[str, str]:
        async with hook.get_conn() as protocol:  # the hook holds its connection from here on
            auth = getattr(getattr(protocol.client, "_client", None), "auth", None)
            return {name: repr(thing) for name, thing in (
                ("hook", hook), ("protocol", protocol), ("API client", protocol.client),
                ("connection options", hook.options), ("auth", auth))}

    for name, text in asyncio.run(reprs()).items():
        assert_absent(secrets, f"the repr of the {name}", text)
    records = [(r.name, r.getMessage()) for r in caplog.records]
    assert any("airflow_provider_chunkup" in name for name, _ in records)
    for number, (name, line) in enumerate(records):
        if "airflow_provider_chunkup" in name:  # chunkup never logs a secret itself ...
            assert_absent(secrets, f"chunkup's log line #{number} ({name})", line)
        assert_absent(secrets, f"log line #{number} of {name} as Airflow masks it", redact(line))  # ... others may

    api.conn.refuse()
    with pytest.raises(AuthenticationFailed) as refused:
        api.hook().upload(path, chunk_size=api.chunk_size)
    error = refused.value
    assert "Check the" in str(error)  # the fix is named ...
    for text in (str(error), repr(error), json.dumps(error.body, default=repr)):
        assert_absent(secrets, "the authentication failure", text)  # ... and no secret


# -- status -------------------------------------------------------------------------------------------------

def test_status(api: Api) -> None:
    path = api.file(api.chunk_size + 1)
    result = api.hook().upload(path, chunk_size=api.chunk_size)
    if not api.profile.abilities.processes_media:
        assert result.processing is None and result.processing_status.done  # ready as soon as it is uploaded
    if not api.profile.abilities.status_readable:
        api.reset_stats()
        with pytest.raises(ConfigurationError, match=r"API key"):
            api.hook().status(result.media_id)
        assert api.api_requests() == 0
        return
    status = api.hook().status(result.media_id)  # processing is instant on the emulator (the profile's config)
    assert status.done and not status.failed, status
    assert asyncio.run(api.hook().astatus(result.media_id)) == status
