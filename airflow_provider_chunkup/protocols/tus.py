"""tus 1.0.0 resumable uploads: any server speaking the protocol (tusd, @tus/server, resumable-upload...).

Sources: ``tus/tus-resumable-upload-protocol`` (``protocol.md``): core (HEAD, PATCH, OPTIONS) and
the creation, expiration, checksum and termination extensions.

How the steps map: init asks the server what it supports (OPTIONS, kept in ``session.remote``
so later tasks need not ask again) and creates the upload (POST with ``Upload-Length`` and
``Upload-Metadata``); append PATCHes each segment at the server's offset, in order; finalize
HEADs the upload and checks the server holds every byte. Resume trusts the server to the byte:
``committed()`` HEADs the upload, and a segment the server holds part of is sent from where the
server stopped (a PATCH cut mid-body keeps what arrived). A 409 (the offset moved under us) is
answered by a HEAD and the rest sent from there.

Parallel parts (the concatenation extension), only where the server announces it and the upload
may send more than one request at a time (``max_in_flight`` > 1): init then creates nothing but
plans the parts (at most :data:`MAX_PARTS`); append sends each segment as its own partial upload
(``Upload-Concat: partial``, its URL kept in ``session.remote["parts"]``), several at a time; finalize
creates the final upload from them (``Upload-Concat: final;<url> ...``) and checks its length.
Elsewhere segments go one at a time, in order.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email.utils
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx

from airflow_provider_chunkup.errors import (
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    RemoteError,
    RemoteRejected,
    RetryExhausted,
    UploadExpired,
)
from airflow_provider_chunkup.protocols.base import Capabilities, Chunk, UploadProtocol
from airflow_provider_chunkup.protocols.chunking import ChunkPlan, GiB, Limits, MiB, Segment
from airflow_provider_chunkup.protocols.http import (
    BODY_EXCERPT,
    NOT_THE_API,
    ApiClient,
    ErrorFactory,
    error_class,
    response_body,
)
from airflow_provider_chunkup.protocols.multipart import PIECE
from airflow_provider_chunkup.protocols.retry import RETRYABLE_STATUSES, RetryPolicy
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
    file_name,
)
from airflow_provider_chunkup.protocols.split import describe_indexes

log = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
CHECKSUM_MISMATCH = 460
"""The checksum extension's status: the chunk's checksum differs, the server discarded it."""
CHECKSUMS = ("sha1", "sha256", "md5")
"""Algorithms chunkup can send in ``Upload-Checksum`` (``sha1`` is the one every checksum server has)."""
TUS_RETRYABLE = RETRYABLE_STATUSES | {423}
"""tusd answers 423 while another request holds the upload's lock: worth waiting for, like a 5xx."""
CHECKSUM_RESENDS = 3
"""Times a chunk the server discarded for a wrong checksum is sent again before the upload fails."""
CONFLICT_RETRIES = 5
"""Times a 409 (the server's offset moved) is answered by a HEAD and a new PATCH without progress."""
DEFAULT_CHUNK = 8 * MiB
MAX_CHUNK = 1 * GiB
MAX_PARTS = 64
"""Most partial uploads one upload is sent as. The final upload names them all in one header
(``Upload-Concat: final;<url> <url> ...``), and servers and proxies cap a header's size (nginx: 8 KiB a
line by default; Node: 16 KiB for all headers): 64 paths of up to 100 characters stay within 8 KiB.
Without an explicit chunk_size the chunk grows (up to the maximum) so a file needs no more parts."""
CONCAT_HEADER_LIMIT = 8 * 1024
"""Longest ``Upload-Concat`` header chunkup sends: beyond it the final upload is refused before its request."""


class TusUpload(UploadProtocol):
    """Uploads to a tus 1.0.0 server's creation endpoint.

    tus itself sets no chunk limits: a PATCH may carry the whole rest of the file. chunkup still sends
    chunks, so memory stays bounded and a broken request loses little: 8 MiB by default (a few
    seconds each on a slow link, few enough requests on a fast one), at most 1 GiB (one request
    in memory at a time, and proxies often cap bodies well below that), any number of them.

    :param endpoint: the creation URL (``https://tus.example.com/files/``).
    :param auth: e.g. ``BearerAuth`` with the server's token; ``None`` for an open server.
    :param headers: added to every request (another auth scheme, an API key header).
    :param metadata: ``Upload-Metadata`` pairs added to every upload, besides the source's name and
        media type (under ``name_key`` and ``type_key``).
    :param checksum: ``sha1``, ``sha256``, ``md5`` or ``none``; ``None`` sends ``sha1`` where the
        server announces the checksum extension with it. Only sent where the server announces it.
    :param max_in_flight: requests an upload may have on the wire at once; above 1, segments go as
        parallel partial uploads where the server announces concatenation.
    :param concatenation: ``False`` never uses concatenation (a service known to lack it).
    :param exact_chunk_bytes: a service that takes chunks of exactly this size (every one but the
        last); another chunk_size is refused before any request.
    :param service: the service's name in messages (``Supabase Storage``); ``None`` for a plain server.
    :param name_key, type_key: the metadata keys the source's file name and media type go under.
    """

    api: ClassVar[str] = "tus"
    display_name: ClassVar[str] = "tus server"
    known_server: ClassVar[dict[str, Any] | None] = None
    """What a platform's tus endpoint supports, as ``server_facts`` says it, where its docs fix it (Vimeo,
    Cloudflare Stream): then no OPTIONS is asked, and the capabilities a subclass set are kept."""

    def __init__(self, *, endpoint: str, auth: httpx.Auth | None = None, headers: Mapping[str, str] | None = None,
                 metadata: Mapping[str, Any] | None = None, checksum: str | None = None,
                 default_chunk_bytes: int = DEFAULT_CHUNK, max_chunk_bytes: int = MAX_CHUNK,
                 retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None, max_in_flight: int = 1,
                 concatenation: bool = True, exact_chunk_bytes: int | None = None, service: str | None = None,
                 name_key: str = "filename", type_key: str = "filetype",
                 error_factory: ErrorFactory | None = None) -> None:
        if checksum is not None and checksum not in (*CHECKSUMS, "none"):
            raise ConfigurationError(
                f"checksum {checksum!r} is not one chunkup sends; use one of {', '.join(CHECKSUMS)}, or none.")
        self.endpoint = endpoint
        self.metadata = {str(k): _text(v) for k, v in (metadata or {}).items()}
        _check_metadata_keys(self.metadata, "the connection's metadata")
        self.checksum = checksum
        self.max_in_flight = max_in_flight
        self.concatenation = concatenation
        self.exact_chunk_bytes = exact_chunk_bytes
        self.service = service
        self.name_key, self.type_key = name_key, type_key
        if exact_chunk_bytes is not None:
            default_chunk_bytes = max_chunk_bytes = exact_chunk_bytes
        self.limits = Limits(default_chunk_bytes=min(default_chunk_bytes, max_chunk_bytes),
                             max_chunk_bytes=max_chunk_bytes, max_segments=10**9)
        # Termination is assumed until the server's OPTIONS answer says otherwise (see _discover).
        self.capabilities = self._capabilities_for(None)
        policy = retry or RetryPolicy()
        if not policy.statuses >= TUS_RETRYABLE:
            policy = dataclasses.replace(policy, statuses=policy.statuses | TUS_RETRYABLE)
        super().__init__(ApiClient(endpoint, auth=auth, timeout=timeout, retry=policy, headers=headers,
                                   error_factory=error_factory or tus_error, transport=transport))
        self._opened: set[str] = set()
        """Uploads this instance created and sent nothing to yet: their offset is known without a HEAD."""

    # -- validation ---------------------------------------------------------------------------

    def validate(self, spec: UploadSpec) -> None:
        unknown = sorted(set(spec.options) - {"metadata"})
        if unknown:
            raise ConfigurationError(
                f"tus uploads take only a metadata option, not {', '.join(unknown)}: pass options={{'metadata': "
                "{...}}, or set metadata in the connection.")
        metadata = spec.options.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ConfigurationError("The metadata option must be a mapping of names to values.")
        _check_metadata_keys(metadata, "the metadata option")
        exact = self.exact_chunk_bytes
        if exact is not None and spec.chunk_size is not None and spec.chunk_size != exact:
            raise ConfigurationError(
                f"{self.service or 'This tus server'} takes chunks of exactly {exact} bytes ({exact / MiB:g} MiB), "
                f"every one but the last; chunk_size={spec.chunk_size} cannot be used. Leave chunk_size unset (or "
                f"set it to {exact}).")

    # -- discovery ----------------------------------------------------------------------------

    async def _discover(self, session: UploadSession | None = None) -> dict[str, Any]:
        """What the server supports (OPTIONS), asked once per session and kept in ``session.remote``; for a
        platform whose tus support is documented (``known_server``), no request and the capabilities unchanged."""
        server = session.remote.get("server") if session is not None else None
        if self.known_server is not None:
            return dict(server) if isinstance(server, dict) else dict(self.known_server)
        if not isinstance(server, dict):
            response = await self.client.request("OPTIONS", self.endpoint, step=f"OPTIONS {self.endpoint}")
            server = server_facts(response.headers)
            if session is not None:
                session.remote["server"] = server
        self.capabilities = self._capabilities_for(server, session)
        return server

    def adopt(self, session: UploadSession) -> None:
        """Take the capabilities of an opened upload, without a request: one sent as partial uploads
        (``session.remote["parts"]``) takes segments in parallel. Call it before sending a session that
        this client did not open (a later task, a resumed try)."""
        if _is_parts(session):  # sent in order, the capabilities this client has already say so
            self.capabilities = self.capabilities_of(session)

    def capabilities_of(self, session: UploadSession) -> Capabilities:
        """What an opened upload allows, from its session alone (no request)."""
        server = session.remote.get("server")
        return self._capabilities_for(server if isinstance(server, dict) else None, session)

    def _capabilities_for(self, server: Mapping[str, Any] | None,
                          session: UploadSession | None = None) -> Capabilities:
        """The truth for this server and upload: parallel only for an upload sent as partial uploads."""
        abortable = server is None or "termination" in server["extensions"]
        parts = session is not None and _is_parts(session)
        if parts:
            because = ""
        elif not self.concatenation:
            because = (f"{self.service or 'this tus service'} has no concatenation extension, so an upload's bytes "
                       "go in order, one PATCH at a time")
        elif server is not None and "concatenation" not in server["extensions"]:
            because = ("the tus server does not announce the concatenation extension (Tus-Extension: "
                       f"{', '.join(server['extensions']) or 'none'}), so an upload's bytes go in order, one PATCH "
                       "at a time; parallel parts need a server that does (tusd, resumable-upload; not @tus/server)")
        else:
            because = ("tus takes segments in parallel only as partial uploads (the concatenation extension), "
                       "chosen at init: set max_in_flight > 1 on the connection before init, with a server that "
                       "announces concatenation")
        return Capabilities(parallel_segments=parts, reports_committed=True, abortable=abortable,
                            in_order_because=because)

    def _checksum_for(self, server: Mapping[str, Any]) -> str | None:
        """The algorithm to send, or ``None`` (not asked for, or the server does not check)."""
        if self.checksum == "none":
            return None
        announced = server.get("checksum_algorithms") or []
        if "checksum" not in server["extensions"]:
            if self.checksum:
                log.info("The tus server does not announce the checksum extension: chunks go without %s.",
                         self.checksum)
            return None
        wanted = self.checksum or "sha1"
        if wanted not in announced:
            if self.checksum is None:
                return None
            raise ConfigurationError(
                f"checksum={wanted} is not among the algorithms the tus server announces "
                f"({', '.join(announced) or 'none'}); set the connection's checksum to one of them, or none.")
        return wanted

    def _parts_plan(self, spec: UploadSpec, plan: ChunkPlan, server: Mapping[str, Any]) -> ChunkPlan | None:
        """How the upload is cut into parallel partial uploads, or ``None`` to send it in order (why is logged)."""
        if self.max_in_flight < 2 or not self.concatenation or "concatenation" not in server["extensions"]:
            return None
        if spec.chunk_size is None and plan.segment_count > MAX_PARTS:
            size = -(-spec.total_bytes // MAX_PARTS)
            if size > self.limits.max_chunk_bytes:
                log.info("%d bytes would need more than %d parts of at most %d bytes (max_chunk_size): the "
                         "segments go in order instead.", spec.total_bytes, MAX_PARTS, self.limits.max_chunk_bytes)
                return None
            plan = ChunkPlan(spec.total_bytes, size)
        if plan.segment_count > MAX_PARTS:
            log.info("chunk_size=%d cuts the file into %d segments, more than the %d parts one concatenation "
                     "joins: the segments go in order instead (leave chunk_size unset to send parts in parallel).",
                     plan.chunk_size, plan.segment_count, MAX_PARTS)
            return None
        return plan if plan.segment_count > 1 else None

    def _metadata(self, source: str | None, media_type: str | None, options: Mapping[str, Any]) -> dict[str, str]:
        """``Upload-Metadata`` pairs: the connection's, the task's, then the source's name and media type."""
        metadata = {**self.metadata, **{str(k): _text(v) for k, v in (options.get("metadata") or {}).items()}}
        name = file_name(source)
        if name:
            metadata.setdefault(self.name_key, name)
        if media_type:
            metadata.setdefault(self.type_key, media_type)
        return metadata

    # -- steps --------------------------------------------------------------------------------

    async def init(self, spec: UploadSpec) -> UploadSession:
        plan = self.plan(spec)
        server = await self._discover()
        if "creation" not in server["extensions"] and server["extensions"]:
            raise ConfigurationError(
                f"The tus server at {self.endpoint} does not announce the creation extension "
                f"(Tus-Extension: {', '.join(server['extensions'])}): it cannot open uploads for chunkup. Check "
                "that the connection's host is the creation endpoint.")
        checksum = self._checksum_for(server)  # an algorithm the server does not take fails before creation
        max_size = server.get("max_size")
        if max_size is not None and spec.total_bytes > max_size:
            raise ConfigurationError(
                f"The source is {spec.total_bytes} bytes; the tus server takes uploads up to {max_size} bytes "
                "(Tus-Max-Size). Use a smaller file or raise the server's limit.")
        parts_plan = self._parts_plan(spec, plan, server)
        if parts_plan is not None:  # nothing to create yet: each segment creates its own partial upload
            session = UploadSession(api=self.api, media_id=f"parts-{uuid.uuid4().hex[:16]}",
                                    total_bytes=spec.total_bytes, chunk_size=parts_plan.chunk_size,
                                    source=spec.source, media_type=spec.media_type,
                                    media_category=spec.media_category,
                                    remote={"parts": {}, "server": server, "checksum": checksum})
            self.capabilities = self._capabilities_for(server, session)
            log.info("The tus server announces concatenation: %d segments go as parallel partial uploads, then one "
                     "final upload joins them.", parts_plan.segment_count)
            return session
        metadata = self._metadata(spec.source, spec.media_type, spec.options)
        headers = {"Tus-Resumable": TUS_VERSION, "Upload-Length": str(spec.total_bytes)}
        if metadata:  # never an empty header: @tus/server answers 400 to one
            headers["Upload-Metadata"] = encode_metadata(metadata)
        step = f"creation of a {spec.total_bytes}-byte upload at {self.endpoint}"
        # Retried like any request: a creation whose answer was lost leaves an empty upload the server expires.
        response = await self.client.request("POST", self.endpoint, headers=headers, step=step)
        location = response.headers.get("Location")
        if not location:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without a Location. {NOT_THE_API}",
                                    status=response.status_code)
        url = urljoin(str(response.url), location)
        session = UploadSession(api=self.api, media_id=_last_segment(url), total_bytes=spec.total_bytes,
                                chunk_size=plan.chunk_size, source=spec.source, media_type=spec.media_type,
                                media_category=spec.media_category,
                                remote={"url": url, "offset": _int(response.headers.get("Upload-Offset")) or 0,
                                        "server": server, "checksum": checksum})
        session.expires_at = _expires(response.headers) or session.expires_at
        self._opened.add(session.media_id)
        return session

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        self._opened.discard(session.media_id)
        if _is_parts(session):
            await self._append_part(session, segment, data)
            return
        url = self._url(session)
        server = await self._discover(session)
        algorithm = session.remote.get("checksum") if "checksum" in session.remote else self._checksum_for(server)
        offset = _int(session.remote.get("offset"))
        if offset is None:
            offset = segment.offset
        await self._send(session, segment, memoryview(data), url=url, offset=offset, algorithm=algorithm,
                         part=False)

    async def _send(self, session: UploadSession, segment: Segment, view: memoryview, *, url: str, offset: int,
                    algorithm: str | None, part: bool) -> None:
        """PATCH ``segment``'s bytes from ``offset`` until the server holds them all.

        In order (``part`` false) offsets count in the file; for a partial upload, in the part (from 0).
        """
        base = 0 if part else segment.offset
        end = base + segment.length - 1
        what = f"part {segment.index} of upload {session.media_id}" if part else f"upload {session.media_id}"
        head: Callable[[], Awaitable[int]] = (
            (lambda: self._part_offset(session, segment, url)) if part else (lambda: self._head_offset(session)))
        conflicts = resends = failures = 0
        once = dataclasses.replace(self.client.retry, max_attempts=1)  # retried below, after a HEAD
        while True:
            if offset > end:
                return  # the server holds this segment (an earlier try's answer was lost)
            if offset < base:
                offset = await head()  # our record may be old: ask once more
                if offset < base:
                    raise RemoteRejected(
                        f"The tus server holds {offset} bytes of upload {session.media_id}, fewer than the "
                        f"{segment.offset} segment {segment.index} follows: tus takes bytes in order. Send the "
                        "segments before it first (or all of them: the server's offset is where they resume).",
                        status=409)
                continue
            body = view[offset - base:]
            headers = {"Tus-Resumable": TUS_VERSION, "Content-Type": OFFSET_OCTET_STREAM,
                       "Upload-Offset": str(offset), "Content-Length": str(len(body))}
            if algorithm:
                digest = await asyncio.to_thread(_digest, algorithm, body)
                headers["Upload-Checksum"] = f"{algorithm} {digest}"
            step = f"PATCH of bytes {offset}-{end} of {what}"
            stream = _Body(body)
            try:
                response = await self.client.request("PATCH", url, content=stream, headers=headers, step=step,
                                                     retry=once, **_link_auth(session))
            except (RetryExhausted, RateLimited) as e:
                # A network error, 5xx, 408, 423 or 429: the server may have kept part of the body, so ask
                # where it is before sending again, rather than resending it all and drawing a 409.
                failures += 1
                policy = self.client.retry
                cause = e.__cause__ if isinstance(e, RetryExhausted) and e.__cause__ is not None else e
                if failures >= policy.max_attempts:
                    raise RetryExhausted(f"{cause} (gave up after {failures} tries)", status=e.status,
                                         body=e.body) from e
                wait = policy.wait_after(e, failures)
                self.client.retries += 1
                log.warning("%s; asking the server's offset, then retry %d of %d in %.1f s", cause, failures,
                            policy.max_attempts - 1, wait)
                await asyncio.sleep(wait)
                offset = await head()
                continue
            except RemoteRejected as e:
                if e.status == 409 and conflicts < CONFLICT_RETRIES:
                    conflicts += 1
                    offset = await head()
                    log.info("%s: the server's offset is %d (HTTP 409); continuing from there.", step, offset)
                    continue
                if e.status == CHECKSUM_MISMATCH:
                    resends += 1
                    if resends <= CHECKSUM_RESENDS:
                        log.warning("%s: the server discarded the chunk (checksum mismatch, HTTP 460); sending "
                                    "it again (%d of %d).", step, resends, CHECKSUM_RESENDS)
                        continue
                    raise RemoteRejected(
                        f"{step}: the tus server discarded the chunk {resends} times because its {algorithm} "
                        "checksum did not match what arrived (HTTP 460). Something between chunkup and the "
                        "server alters request bodies (a proxy?), or the source changes while it is read. "
                        "Fix the path or the source, or set the connection's checksum to none.",
                        status=e.status, body=e.body) from e
                raise self._gone(e, session) from e
            finally:
                stream.release()  # httpx's request may outlive this call in a reference cycle: not the chunk
            new_offset = _int(response.headers.get("Upload-Offset"))
            if new_offset is None:
                raise MalformedResponse(f"{step} answered HTTP {response.status_code} without Upload-Offset. "
                                        f"{NOT_THE_API}", status=response.status_code)
            offset = new_offset
            expires = _expires(response.headers)
            if not part:
                session.remote["offset"] = offset
                session.expires_at = expires or session.expires_at
            elif expires is not None:  # the upload lasts as long as its first part to expire
                session.expires_at = min(expires, session.expires_at or expires)
            if offset <= end:
                log.info("%s: the server stored up to %d; sending the rest.", step, offset)

    async def _append_part(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        """One segment as its own partial upload: created (with its bytes where the server allows), then PATCHed
        from the server's offset; a part an earlier try created is resumed from its HEAD."""
        server = await self._discover(session)
        algorithm = session.remote.get("checksum") if "checksum" in session.remote else self._checksum_for(server)
        view = memoryview(data)
        url = _parts(session).get(str(segment.index))
        if url is None:
            url, offset = await self._create_part(session, segment, view, server, algorithm)
        else:
            offset = await self._part_offset(session, segment, url)
        await self._send(session, segment, view, url=url, offset=offset, algorithm=algorithm, part=True)

    async def _create_part(self, session: UploadSession, segment: Segment, view: memoryview,
                           server: Mapping[str, Any], algorithm: str | None) -> tuple[str, int]:
        """POST ``Upload-Concat: partial``; returns the part's URL (recorded in the session) and its offset.

        With creation-with-upload the bytes go in the POST itself (one request less), unless a checksum is
        sent: then they go by PATCH, where a 460 is answered by sending the chunk again.
        """
        headers = {"Tus-Resumable": TUS_VERSION, "Upload-Concat": "partial", "Upload-Length": str(segment.length)}
        with_body = "creation-with-upload" in server["extensions"] and not algorithm
        step = f"creation of part {segment.index} ({segment.length} bytes) of upload {session.media_id}"
        stream = _Body(view) if with_body else None
        if stream is not None:
            headers.update({"Content-Type": OFFSET_OCTET_STREAM, "Content-Length": str(len(view))})
        try:
            # Retried like any creation: one whose answer was lost leaves a partial upload the server expires.
            response = await self.client.request("POST", self.endpoint, headers=headers, content=stream, step=step)
        finally:
            if stream is not None:
                stream.release()
        location = response.headers.get("Location")
        if not location:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without a Location. {NOT_THE_API}",
                                    status=response.status_code)
        url = urljoin(str(response.url), location)
        session.remote["parts"] = {**_parts(session), str(segment.index): url}  # a new dict: checkpoints share it
        expires = _expires(response.headers)
        if expires is not None:
            session.expires_at = min(expires, session.expires_at or expires)
        offset = _int(response.headers.get("Upload-Offset"))
        if with_body and offset is None:
            offset = await self._part_offset(session, segment, url)
        return url, offset or 0

    async def _part_offset(self, session: UploadSession, segment: Segment, url: str) -> int:
        """HEAD a partial upload: the bytes of the segment it holds."""
        try:
            response = await self.client.request("HEAD", url, headers={"Tus-Resumable": TUS_VERSION},
                                                 step=f"HEAD of part {segment.index} of upload {session.media_id}")
        except RemoteRejected as e:
            raise self._gone(e, session) from e
        offset = _int(response.headers.get("Upload-Offset"))
        if offset is None:
            raise MalformedResponse(f"HEAD of part {segment.index} of upload {session.media_id} answered HTTP "
                                    f"{response.status_code} without Upload-Offset. {NOT_THE_API}",
                                    status=response.status_code)
        length = _int(response.headers.get("Upload-Length"))
        if length is not None and length != segment.length:
            raise RemoteRejected(
                f"Part {segment.index} of tus upload {session.media_id} is {length} bytes long, but the segment is "
                f"{segment.length}: the session belongs to another file or chunk size. Start a new upload.",
                status=response.status_code)
        return offset

    async def finalize(self, session: UploadSession) -> UploadResult:
        if _is_parts(session):
            await self._concatenate(session)
        url = self._url(session)
        response = await self._head(session)
        offset = _int(response.headers.get("Upload-Offset"))
        length = _int(response.headers.get("Upload-Length"))
        if offset != session.total_bytes or (length is not None and length != session.total_bytes):
            raise RemoteRejected(
                f"The tus server holds {offset} of {length if length is not None else '?'} bytes of upload "
                f"{session.media_id}, not the {session.total_bytes} of the file: append the missing segments "
                "before finalizing.", status=response.status_code)
        return UploadResult(
            api=self.api, media_id=_last_segment(url), size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), processing=None, details={"upload_url": url},
            transfer_seconds=round(session.transfer_seconds, 3) or None,
        )

    async def _concatenate(self, session: UploadSession) -> None:
        """Create the final upload of every part, in order (``session.remote["url"]`` then names it)."""
        parts = _parts(session)
        missing = [i for i in range(session.segment_count) if str(i) not in parts]
        if not missing:
            stored = session.stored_segments()
            for segment in session.plan.segments():  # a part this session did not see finish: ask it
                if segment.index not in stored \
                        and await self._part_offset(session, segment, parts[str(segment.index)]) < segment.length:
                    missing.append(segment.index)
        if missing:
            raise RemoteRejected(
                f"tus upload {session.media_id} lacks segment{'s' if len(missing) > 1 else ''} "
                f"{describe_indexes(missing)} of {session.segment_count} (no complete partial upload): append the "
                "missing segments before finalizing.")
        concat = "final;" + " ".join(_short_url(self.endpoint, parts[str(i)]) for i in range(session.segment_count))
        if len(concat) > CONCAT_HEADER_LIMIT:
            raise ConfigurationError(
                f"The {session.segment_count} part URLs of upload {session.media_id} make an Upload-Concat header of "
                f"{len(concat)} characters, over the {CONCAT_HEADER_LIMIT} servers and proxies are sure to take. Send "
                "the file with max_in_flight=1 (in order), or with a larger chunk_size (fewer parts).")
        headers = {"Tus-Resumable": TUS_VERSION, "Upload-Concat": concat}
        metadata = self._metadata(session.source, session.media_type, session.remote.get("init_options") or {})
        if metadata:
            headers["Upload-Metadata"] = encode_metadata(metadata)
        step = f"creation of the final upload of {session.segment_count} parts at {self.endpoint}"
        response = await self.client.request("POST", self.endpoint, headers=headers, step=step)
        location = response.headers.get("Location")
        if not location:
            raise MalformedResponse(f"{step} answered HTTP {response.status_code} without a Location. {NOT_THE_API}",
                                    status=response.status_code)
        session.remote["url"] = urljoin(str(response.url), location)

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """tus only stores bytes: the upload is ready once the server holds them all."""
        return ProcessingStatus(state="none")

    async def committed(self, session: UploadSession) -> set[int] | None:
        """The segments the server holds whole (HEAD); where it holds part of one, append sends the rest.

        For an upload sent as partial uploads: the acknowledged parts, and those whose HEAD says complete.
        """
        if _is_parts(session):
            stored = session.stored_segments()
            have = set()
            for key, url in sorted(_parts(session).items(), key=lambda item: int(item[0])):
                segment = session.plan.segment(int(key))
                if segment.index in stored or await self._part_offset(session, segment, url) == segment.length:
                    have.add(segment.index)
            return have
        if not session.remote.get("url"):
            return None
        if session.media_id in self._opened:  # created here a moment ago: the creation answer gave its offset
            offset = _int(session.remote.get("offset")) or 0
        else:
            offset = await self._head_offset(session)
        return {s.index for s in session.plan.segments() if s.end < offset}

    async def abort(self, session: UploadSession) -> bool:
        """DELETE the upload (every partial upload, and any final one) where the server announces termination;
        ``False`` where it does not."""
        urls = [*_parts(session).values(), *([session.remote["url"]] if session.remote.get("url") else [])]
        if not urls:
            return False
        server = await self._discover(session)
        if "termination" not in server["extensions"]:
            return False
        for url in urls:
            try:
                await self.client.request("DELETE", str(url), headers={"Tus-Resumable": TUS_VERSION},
                                          step=f"termination of upload {session.media_id}", **_link_auth(session))
            except RemoteRejected as e:
                if e.status not in (404, 410):
                    raise
        return True  # deleted, or already gone

    # -- helpers ------------------------------------------------------------------------------

    def _url(self, session: UploadSession) -> str:
        url = session.remote.get("url")
        if not url:
            raise ConfigurationError(f"Upload {session.media_id or '(none)'} has no tus upload URL: pass the session "
                                     "init returned (its XCom) unchanged.")
        return str(url)

    async def _head(self, session: UploadSession) -> httpx.Response:
        try:
            response = await self.client.request("HEAD", self._url(session), headers={"Tus-Resumable": TUS_VERSION},
                                                 step=f"HEAD of upload {session.media_id}", **_link_auth(session))
        except RemoteRejected as e:
            raise self._gone(e, session) from e
        session.expires_at = _expires(response.headers) or session.expires_at
        return response

    async def _head_offset(self, session: UploadSession) -> int:
        response = await self._head(session)
        offset = _int(response.headers.get("Upload-Offset"))
        if offset is None:
            raise MalformedResponse(f"HEAD of upload {session.media_id} answered HTTP {response.status_code} without "
                                    f"Upload-Offset. {NOT_THE_API}", status=response.status_code)
        length = _int(response.headers.get("Upload-Length"))
        if length is not None and length != session.total_bytes:
            raise RemoteRejected(
                f"The tus upload {session.media_id} is {length} bytes long, but the file is {session.total_bytes}: "
                "the session belongs to another file. Start a new upload.", status=response.status_code)
        session.remote["offset"] = offset
        return offset

    def _gone(self, error: RemoteRejected, session: UploadSession) -> RemoteRejected:
        """404/410 on the upload's URL: the server forgot it (expired, deleted)."""
        if error.status not in (404, 410) or isinstance(error, UploadExpired):
            return error
        return UploadExpired(
            f"The tus server no longer has upload {session.media_id} (HTTP {error.status}): it expired or was "
            "deleted. Start a new upload (re-run init), or set restart_expired=true on the connection to let "
            "chunkup start over by itself.", status=error.status, body=error.body)


class _Body:
    """A PATCH body over a view of the chunk: re-sendable on retry, in pieces, never copied whole."""

    def __init__(self, view: memoryview) -> None:
        self._view: memoryview | None = view

    async def __aiter__(self) -> AsyncIterator[memoryview]:
        view = self._view
        if view is None:
            raise RuntimeError("the chunk of this body was already released")
        for start in range(0, len(view), PIECE):
            yield view[start:start + PIECE]

    def release(self) -> None:
        self._view = None


def server_facts(headers: httpx.Headers) -> dict[str, Any]:
    """What an OPTIONS answer says the server supports, JSON-safe."""
    return {
        "versions": _list(headers.get("Tus-Version")),
        "extensions": _list(headers.get("Tus-Extension")),
        "max_size": _int(headers.get("Tus-Max-Size")),
        "checksum_algorithms": [a.lower() for a in _list(headers.get("Tus-Checksum-Algorithm"))],
    }


def encode_metadata(metadata: Mapping[str, str]) -> str:
    """``Upload-Metadata``: ``key base64(value)`` pairs separated by commas (a key alone for an empty value)."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" if v else k for k, v in metadata.items())


HINTS = {
    401: "Check the token in the connection's password (Bearer) or its headers extra.",
    403: "The credentials are missing or not allowed to upload here.",
    412: "The server does not speak tus 1.0.0 (Tus-Version names what it does).",
    413: "The file is larger than the server accepts (Tus-Max-Size).",
    415: "The server refused the PATCH's Content-Type: it may not be a tus server.",
}


def tus_error(response: httpx.Response, step: str) -> RemoteError:
    """A failed tus answer in words, with the fix where one is known."""
    status = response.status_code
    body = response_body(response)
    text = (body if isinstance(body, str) else json.dumps(body))[:BODY_EXCERPT].strip()
    message = f"{step} failed with HTTP {status}" + (f": {text}" if text else "")
    if status == 412 and response.headers.get("Tus-Version"):
        message += f" (server versions: {response.headers['Tus-Version']})"
    if status in HINTS:
        message = f"{message.rstrip('.')}. {HINTS[status]}"
    return error_class(status)(message, status=status, body=body)


def _link_auth(session: UploadSession) -> dict[str, Any]:
    """Requests to an upload URL that carries its own authority (Vimeo's ``upload_link``, a one-time direct
    upload URL) go without the connection's credentials: ``session.remote["link_only"]``."""
    return {"auth": None} if session.remote.get("link_only") else {}


def _is_parts(session: UploadSession) -> bool:
    """Whether the upload is sent as partial uploads (concatenation) rather than one upload in order."""
    return isinstance(session.remote.get("parts"), dict)


def _parts(session: UploadSession) -> dict[str, str]:
    """The partial uploads created so far: segment index (as text: it goes through JSON) -> URL."""
    parts = session.remote.get("parts")
    return dict(parts) if isinstance(parts, dict) else {}


def _short_url(endpoint: str, url: str) -> str:
    """``url`` as short as ``Upload-Concat`` allows: its path where it is on the endpoint's origin."""
    target, base = urlsplit(url), urlsplit(endpoint)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc):
        return url
    return target.path + (f"?{target.query}" if target.query else "")


def _text(value: Any) -> str:
    """A metadata value as text: a mapping or list as JSON (Supabase's ``metadata``), ``None`` as empty."""
    if value is None:
        return ""
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _check_metadata_keys(metadata: Mapping[str, Any], where: str) -> None:
    for key in metadata:
        if not key or any(c.isspace() or c == "," for c in str(key)):
            raise ConfigurationError(f"Metadata key {key!r} in {where} is not a valid tus key: keys must be "
                                     "non-empty, without spaces or commas.")


def _digest(algorithm: str, body: memoryview) -> str:
    return base64.b64encode(hashlib.new(algorithm, body).digest()).decode()


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _expires(headers: httpx.Headers) -> float | None:
    value = headers.get("Upload-Expires")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def _last_segment(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


