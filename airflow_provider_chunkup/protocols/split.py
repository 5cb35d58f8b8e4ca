"""One upload spread over several tasks: the segment ranges, their checksums, and the merge before finalize.

Where an API accepts segments in any order and several at a time (``Capabilities.parallel_segments``:
X, api.video in ``part`` mode), one large upload can be sent by mapped append tasks, each a contiguous
range of segments, on as many workers. No task then reads the whole file, so there is no whole-file
sha256: each task records the sha256 of its own byte range instead, and finalize returns those.
This module imports nothing from Airflow.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.chunking import MiB, Plan, Segment
from airflow_provider_chunkup.protocols.session import UploadSession
from airflow_provider_chunkup.sources import ChunkSource, SourceLike

SessionLike = UploadSession | Mapping[str, Any] | str

RangeDigest = dict[str, Any]
"""``{"segments": "a:b", "offset": int, "length": int, "sha256": hex}``: one byte range's checksum."""


class SegmentsMissing(ConfigurationError):
    """The sessions given to finalize do not hold every segment: a range was never sent."""


def segment_ranges(session: SessionLike, parts: int, *, hold_last: bool = False) -> list[str]:
    """Cut the session's segments into at most ``parts`` contiguous half-open ranges ``"a:b"``.

    The ranges are as even as possible (their lengths differ by at most one segment, the longer ones
    first) and never empty: a file of fewer segments than ``parts`` gets one range per segment.
    With ``hold_last`` (APIs whose last segment completes the upload: api.video) the last segment is
    in no range, because finalize sends it once every range is acknowledged; a one-segment upload
    still gets ``["0:1"]``, as append then sends it. Segments the server already holds (one sent at
    init) stay in their range: append skips sending them but still hashes them, so the range digests
    cover the file.
    """
    if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
        raise ConfigurationError(f"parts must be a whole number of at least 1, got {parts!r}. Pass for example 4.")
    record = UploadSession.from_dict(session)
    refuse_windows(record)
    count = record.segment_count
    sendable = count - 1 if hold_last and count > 1 else count
    parts = min(parts, sendable)
    size, longer = divmod(sendable, parts)
    ranges: list[str] = []
    start = 0
    for part in range(parts):
        stop = start + size + (1 if part < longer else 0)
        ranges.append(f"{start}:{stop}")
        start = stop
    return ranges


def refuse_windows(session: UploadSession) -> None:
    """Raise when the server dictates the session's windows: there are no segments to fan out over tasks."""
    if session.windowed:
        raise ConfigurationError(
            f"The {session.api} upload {session.media_id} cannot be split over parallel append tasks: the server "
            "names each window to send in its answer to the previous one, so the windows are neither known up "
            "front nor sendable side by side. Upload it from one task (ChunkedUploadOperator, or a single append)."
        )


def session_list(value: Any) -> list[Any] | None:
    """The sessions in ``value`` when it is a sequence of them (the XCom of mapped appends), else ``None``.

    A mapped task's output arrives as a lazy sequence; a template renders it as a list's JSON or repr.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return None
        try:
            parsed = json.loads(text)
        except ValueError:
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError) as e:
                raise ConfigurationError(
                    f"Cannot read a list of sessions from {text[:80]!r}: pass the append task's output (XComArg), "
                    "or set render_template_as_native_obj=True on the DAG when templating it."
                ) from e
        return list(parsed) if isinstance(parsed, list) else None
    if isinstance(value, (UploadSession, Mapping, bytes)) or not isinstance(value, Iterable):
        return None
    return list(value)


def merge_sessions(sessions: Iterable[SessionLike]) -> UploadSession:
    """One session from those the tasks of a split upload returned: the union of what each stored.

    Every session must be of the same remote upload. Stored segments and range digests are united,
    ``sent_bytes`` summed, ``transfer_seconds`` is the longest task's (the tasks ran side by side).
    """
    records = [UploadSession.from_dict(s) for s in sessions if s is not None]
    if not records:
        raise ConfigurationError(
            "Finalize got an empty list of sessions: no append task returned one (every mapped append was "
            "skipped, or the split produced no range). Check the append tasks, then run finalize again."
        )
    first = records[0]
    for other in records[1:]:
        if (other.api, other.media_id) != (first.api, first.media_id):
            raise ConfigurationError(
                f"Finalize got sessions of different uploads ({first.api} {first.media_id!r} and {other.api} "
                f"{other.media_id!r}); one finalize closes one upload. Pass it the output of the append tasks "
                "of a single init task."
            )
        if (other.total_bytes, other.chunk_size, other.plan_kind, other.parts) != \
                (first.total_bytes, first.chunk_size, first.plan_kind, first.parts):
            raise ConfigurationError(
                f"The sessions of upload {first.media_id} disagree on its size or chunk size "
                f"({first.total_bytes}/{first.chunk_size} and {other.total_bytes}/{other.chunk_size}): they were "
                "changed after init. Pass the append tasks' output unchanged."
            )
    merged = UploadSession.from_dict({**first.to_dict(), "stored": [], "range_digests": [], "sent_bytes": 0,
                                      "transfer_seconds": 0.0, "digests": {}, "remote": {}})
    for record in records:
        for start, stop in record.stored:
            for index in range(start, stop):
                merged.mark_stored(index)
        for digest in record.range_digests:
            add_range_digest(merged, digest)
        for key, value in record.remote.items():
            merged.remote.setdefault(key, value)
        merged.sent_bytes += record.sent_bytes
        merged.committed_bytes = max(merged.committed_bytes, record.committed_bytes)
        merged.transfer_seconds = max(merged.transfer_seconds, record.transfer_seconds)
        if record.digests and not merged.digests:  # a task that did read the whole file
            merged.digests = dict(record.digests)
    return merged


def missing_segments(session: UploadSession, hold: Iterable[int] = ()) -> list[int]:
    """Segments neither stored nor held back for finalize, in order.

    Where the server dictates windows there are no segments: ``[]`` once it holds every byte, else ``[0]``.
    """
    if session.windowed:
        return [] if session.committed_bytes >= session.total_bytes else [0]
    have = session.stored_segments() | set(hold)
    return [i for i in range(session.segment_count) if i not in have]


def check_complete(session: UploadSession, hold: Iterable[int] = (), *, api: str = "the API") -> None:
    """Raise :class:`SegmentsMissing`, naming the segments, unless every segment was stored (or is held)."""
    missing = missing_segments(session, hold)
    if missing and session.windowed:
        raise SegmentsMissing(
            f"{api} upload {session.media_id} holds {session.committed_bytes} of {session.total_bytes} bytes: the "
            "append did not finish. Run the append task again (it resumes where the server stopped), then finalize."
        )
    if missing:
        raise SegmentsMissing(
            f"{api} upload {session.media_id} lacks segment{'s' if len(missing) > 1 else ''} "
            f"{describe_indexes(missing)} of {session.segment_count}: no append task sent "
            f"{'them' if len(missing) > 1 else 'it'} (a mapped append failed or was skipped). Clear the append "
            "task instances that hold these segments so they run again, then finalize."
        )


def describe_indexes(indexes: Sequence[int], most: int = 8) -> str:
    """``[3, 4, 5, 9]`` as ``"3-5, 9"`` (at most ``most`` runs, then how many more)."""
    runs: list[list[int]] = []
    for index in sorted(indexes):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    text = ", ".join(f"{a}-{b}" if b > a else str(a) for a, b in runs[:most])
    return text + (f" and {len(runs) - most} more ranges" if len(runs) > most else "")


def range_digest(plan: Plan, start: int, stop: int, sha256: str) -> RangeDigest:
    """The record of segments ``start:stop``'s bytes and their sha256."""
    first, last = plan.segment(start), plan.segment(stop - 1)
    return {"segments": f"{start}:{stop}", "offset": first.offset, "length": last.offset + last.length - first.offset,
            "sha256": sha256}


def add_range_digest(session: UploadSession, record: Mapping[str, Any]) -> None:
    """Add (or replace: a retried task computes it again) a range digest, keeping them sorted by offset."""
    kept = [r for r in session.range_digests if (r["offset"], r["length"]) != (record["offset"], record["length"])]
    session.range_digests = sorted([*kept, dict(record)], key=lambda r: (r["offset"], r["length"]))


def covered(session: UploadSession, segment: Segment) -> bool:
    """Whether a range digest already covers ``segment``."""
    return any(r["offset"] <= segment.offset and segment.offset + segment.length <= r["offset"] + r["length"]
               for r in session.range_digests)


class RangeHasher:
    """sha256 of each run of consecutive segments, fed in reading order (one segment at a time)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._records: list[RangeDigest] = []
        self._start = self._stop = -1
        self._hash: Any = None

    def update(self, segment: Segment, data: bytes | memoryview) -> None:
        if segment.index != self._stop:
            self._close()
            self._start, self._hash = segment.index, hashlib.sha256()
        self._hash.update(data)
        self._stop = segment.index + 1

    def records(self) -> list[RangeDigest]:
        self._close()
        return list(self._records)

    def _close(self) -> None:
        if self._hash is not None:
            self._records.append(range_digest(self.plan, self._start, self._stop, self._hash.hexdigest()))
            self._hash = None
            self._start = self._stop = -1


def verify_range_digests(source: SourceLike, range_digests: Iterable[Mapping[str, Any]],
                         storage_options: Mapping[str, Any] | None = None,
                         read_size: int = 8 * MiB) -> list[dict[str, Any]]:
    """The ranges whose bytes in ``source`` do not match their sha256 (``[]``: all match), with ``actual``.

    Reads each range in ``read_size`` pieces through one reused buffer: memory stays bounded.
    """
    mismatches: list[dict[str, Any]] = []
    buffer = memoryview(bytearray(read_size))
    with ChunkSource(source, storage_options) as src:
        for record in range_digests:
            digest = hashlib.sha256()
            offset, end = int(record["offset"]), int(record["offset"]) + int(record["length"])
            while offset < end:
                data = src.read_into(offset, buffer[: min(read_size, end - offset)])
                if not data:
                    break
                digest.update(data)
                offset += len(data)
            if digest.hexdigest() != record["sha256"]:
                mismatches.append({**record, "actual": digest.hexdigest()})
    return mismatches
