"""The interface every upload API implements: init, append, finalize, status (and abort)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from airflow_provider_chunkup.errors import ConfigurationError
from airflow_provider_chunkup.protocols.chunking import ChunkPlan, Limits, Segment, plan_chunks
from airflow_provider_chunkup.protocols.http import ApiClient
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
)

Chunk = bytes | bytearray | memoryview
"""One segment's bytes, often a view of a reused buffer."""


@dataclass(frozen=True)
class Capabilities:
    """What an API allows beyond sending chunks in order."""

    parallel_segments: bool
    """Segments may arrive out of order and several at a time."""
    reports_committed: bool = False
    """The server can say which chunks it already has (resume without trusting our own count)."""
    abortable: bool = False
    """An unfinished remote upload can be deleted."""
    processes_media: bool = False
    """Media may need processing after finalize (a status to poll)."""
    opens_with_first_segment: bool = False
    """The remote id comes back from the first segment's response (no init request): segment 0 goes
    alone before any other."""
    completes_with_last_segment: bool = False
    """Sending the last segment completes the upload, so it goes last, after every other is
    acknowledged (in the split tasks: by finalize)."""
    secret_session: bool = False
    """The session names the remote upload by a URL that is itself a credential (Google's session URI): it may
    be kept in the task state store, never in XCom, so the upload runs in one task (``ChunkedUploadOperator``)."""
    server_windows: bool = False
    """The server names each byte window to send in its answer to the previous one (Meta Graph): the transfer
    asks :meth:`UploadProtocol.next_window` what to send, in order, one window at a time."""
    in_order_because: str = ""
    """Without ``parallel_segments``: why segments must go in order, and any setting that lifts it, in
    the user's words (it ends the message when a split over parallel tasks is refused)."""


class UploadProtocol(ABC):
    """One upload API over one :class:`ApiClient`. Use as ``async with``; it closes the client."""

    api: ClassVar[str]
    """Short API name stored in sessions (``x``, ``apivideo``...)."""
    display_name: ClassVar[str]
    capabilities: Capabilities
    limits: Limits
    digests: ClassVar[tuple[str, ...]] = ()
    """Whole-file checksums the API needs besides sha256 (which every result carries)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.opened: set[str] = set()
        """Remote uploads this client opened: it sent all they hold, so it never asks the server what that is
        (another client, a retried task's, does)."""

    async def __aenter__(self) -> UploadProtocol:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    def plan(self, spec: UploadSpec) -> ChunkPlan:
        """Validate ``spec`` and plan its chunks; raises before any request is sent."""
        self.validate(spec)
        return plan_chunks(spec.total_bytes, self.limits, spec.chunk_size, api=self.display_name)

    def validate(self, spec: UploadSpec) -> None:  # noqa: B027 - optional hook, most APIs add rules
        """Reject what the API would reject (media type, category, size), before any request."""

    @abstractmethod
    async def init(self, spec: UploadSpec) -> UploadSession:
        """Open a remote upload for ``spec``."""

    @abstractmethod
    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        """Send one segment's bytes. ``data`` is only valid during the call: keep no reference."""

    @abstractmethod
    async def finalize(self, session: UploadSession) -> UploadResult:
        """Close the upload; the result carries the media id and processing as first reported."""

    @abstractmethod
    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """Processing state of an uploaded media.

        ``until`` says what "done" means where the API distinguishes (api.video: ``playable`` or
        ``encoded``); ``None`` takes the API's default.
        """

    async def next_window(self, session: UploadSession) -> Segment | None:
        """For ``Capabilities.server_windows``: the window the server last asked for, ``None`` once it has all.

        ``append`` keeps the server's answer in ``session.remote`` (so a checkpoint carries it): a window asked
        again after an error is simply returned again.
        """
        raise ConfigurationError(f"{self.display_name} does not dictate windows: its segments are planned. Send the "
                                 "session with send_segments (the hooks' append and upload choose it).")

    async def committed(self, session: UploadSession) -> set[int] | None:
        """Segments the server already holds, where it can tell (``None``: it cannot)."""
        return None

    async def abort(self, session: UploadSession) -> bool:
        """Delete an unfinished remote upload where the API allows it; ``False`` if it cannot."""
        return False
