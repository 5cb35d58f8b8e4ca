"""tus 1.0.0 resumable uploads: any server speaking the protocol (tusd, @tus/server, resumable-upload...).

Sources: ``tus/tus-resumable-upload-protocol`` (``protocol.md``): core (HEAD, PATCH, OPTIONS) and
the creation, expiration, checksum and termination extensions.

How the steps map: init asks the server what it supports (OPTIONS, kept in ``session.remote``
so later tasks need not ask again) and creates the upload (POST with ``Upload-Length`` and
``Upload-Metadata``); append PATCHes each segment at the server's offset, in order; finalize
HEADs the upload and checks the server holds every byte. Resume trusts the server to the byte:
``committed()`` HEADs the upload, and a segment the server holds part of is sent from where the
server stopped (a PATCH cut mid-body keeps what arrived). A 409 (the offset moved under us) is
answered by a HEAD and the rest sent from there. Concatenation (parallel partial uploads) is not
used: segments go one at a time.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email.utils
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
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
from airflow_provider_chunkup.protocols.chunking import GiB, Limits, MiB, Segment
from airflow_provider_chunkup.protocols.http import BODY_EXCERPT, NOT_THE_API, ApiClient, error_class, response_body
from airflow_provider_chunkup.protocols.multipart import PIECE
from airflow_provider_chunkup.protocols.retry import RETRYABLE_STATUSES, RetryPolicy
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
)

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


class TusUpload(UploadProtocol):
    """Uploads to a tus 1.0.0 server's creation endpoint.

    tus itself sets no chunk limits: a PATCH may carry the whole rest of the file. chunkup still sends
    chunks, so memory stays bounded and a broken request loses little: 8 MiB by default (a few
    seconds each on a slow link, few enough requests on a fast one), at most 1 GiB (one request
    in memory at a time, and proxies often cap bodies well below that), any number of them.

    :param endpoint: the creation URL (``https://tus.example.com/files/``).
    :param auth: e.g. ``BearerAuth`` with the server's token; ``None`` for an open server.
    :param headers: added to every request (another auth scheme, an API key header).
    :param metadata: ``Upload-Metadata`` pairs added to every upload, besides ``filename`` and
        ``filetype`` from the source.
    :param checksum: ``sha1``, ``sha256``, ``md5`` or ``none``; ``None`` sends ``sha1`` where the
        server announces the checksum extension with it. Only sent where the server announces it.
    """

    api: ClassVar[str] = "tus"
    display_name: ClassVar[str] = "tus server"

    def __init__(self, *, endpoint: str, auth: httpx.Auth | None = None, headers: Mapping[str, str] | None = None,
                 metadata: Mapping[str, Any] | None = None, checksum: str | None = None,
                 default_chunk_bytes: int = DEFAULT_CHUNK, max_chunk_bytes: int = MAX_CHUNK,
                 retry: RetryPolicy | None = None, timeout: float = 120.0,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if checksum is not None and checksum not in (*CHECKSUMS, "none"):
            raise ConfigurationError(
                f"checksum {checksum!r} is not one chunkup sends; use one of {', '.join(CHECKSUMS)}, or none.")
        self.endpoint = endpoint
        self.metadata = {str(k): "" if v is None else str(v) for k, v in (metadata or {}).items()}
        _check_metadata_keys(self.metadata, "the connection's metadata")
        self.checksum = checksum
        self.limits = Limits(default_chunk_bytes=min(default_chunk_bytes, max_chunk_bytes),
                             max_chunk_bytes=max_chunk_bytes, max_segments=10**9)
        # Termination is assumed until the server's OPTIONS answer says otherwise (see _discover).
        self.capabilities = _capabilities(abortable=True)
        policy = retry or RetryPolicy()
        if not policy.statuses >= TUS_RETRYABLE:
            policy = dataclasses.replace(policy, statuses=policy.statuses | TUS_RETRYABLE)
        super().__init__(ApiClient(endpoint, auth=auth, timeout=timeout, retry=policy, headers=headers,
                                   error_factory=tus_error, transport=transport))

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

    # -- discovery ----------------------------------------------------------------------------

    async def _discover(self, session: UploadSession | None = None) -> dict[str, Any]:
        """What the server supports (OPTIONS), asked once per session and kept in ``session.remote``."""
        server = session.remote.get("server") if session is not None else None
        if not isinstance(server, dict):
            response = await self.client.request("OPTIONS", self.endpoint, step=f"OPTIONS {self.endpoint}")
            server = server_facts(response.headers)
            if session is not None:
                session.remote["server"] = server
        self.capabilities = _capabilities(abortable="termination" in server["extensions"])
        return server

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
        metadata = {**self.metadata, **{str(k): "" if v is None else str(v)
                                        for k, v in (spec.options.get("metadata") or {}).items()}}
        name = _filename(spec.source)
        if name:
            metadata.setdefault("filename", name)
        if spec.media_type:
            metadata.setdefault("filetype", spec.media_type)
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
        return session

    async def append(self, session: UploadSession, segment: Segment, data: Chunk) -> None:
        url = self._url(session)
        server = await self._discover(session)
        algorithm = session.remote.get("checksum") if "checksum" in session.remote else self._checksum_for(server)
        offset = _int(session.remote.get("offset"))
        if offset is None:
            offset = segment.offset
        conflicts = resends = failures = 0
        once = dataclasses.replace(self.client.retry, max_attempts=1)  # retried below, after a HEAD
        view = memoryview(data)
        while True:
            if offset > segment.end:
                return  # the server holds this segment (an earlier try's answer was lost)
            if offset < segment.offset:
                offset = await self._head_offset(session)  # our record may be old: ask once more
                if offset < segment.offset:
                    raise RemoteRejected(
                        f"The tus server holds {offset} bytes of upload {session.media_id}, fewer than the "
                        f"{segment.offset} segment {segment.index} follows: tus takes bytes in order. Send the "
                        "segments before it first (or all of them: the server's offset is where they resume).",
                        status=409)
                continue
            body = view[offset - segment.offset:]
            headers = {"Tus-Resumable": TUS_VERSION, "Content-Type": OFFSET_OCTET_STREAM,
                       "Upload-Offset": str(offset), "Content-Length": str(len(body))}
            if algorithm:
                digest = await asyncio.to_thread(_digest, algorithm, body)
                headers["Upload-Checksum"] = f"{algorithm} {digest}"
            step = f"PATCH of bytes {offset}-{segment.end} of upload {session.media_id}"
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
                offset = await self._head_offset(session)
                continue
            except RemoteRejected as e:
                if e.status == 409 and conflicts < CONFLICT_RETRIES:
                    conflicts += 1
                    offset = await self._head_offset(session)
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
            session.remote["offset"] = offset = new_offset
            session.expires_at = _expires(response.headers) or session.expires_at
            if offset <= segment.end:
                log.info("%s: the server stored up to %d; sending the rest.", step, offset)

    async def finalize(self, session: UploadSession) -> UploadResult:
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

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """tus only stores bytes: the upload is ready once the server holds them all."""
        return ProcessingStatus(state="none")

    async def committed(self, session: UploadSession) -> set[int] | None:
        """The segments the server holds whole (HEAD); where it holds part of one, append sends the rest."""
        if not session.remote.get("url"):
            return None
        offset = await self._head_offset(session)
        return {s.index for s in session.plan.segments() if s.end < offset}

    async def abort(self, session: UploadSession) -> bool:
        """DELETE the upload where the server announces termination; ``False`` where it does not."""
        if not session.remote.get("url"):
            return False
        server = await self._discover(session)
        if "termination" not in server["extensions"]:
            return False
        try:
            await self.client.request("DELETE", self._url(session), headers={"Tus-Resumable": TUS_VERSION},
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


def _capabilities(*, abortable: bool) -> Capabilities:
    return Capabilities(parallel_segments=False, reports_committed=True, abortable=abortable,
                        in_order_because="tus takes an upload's bytes in order, one PATCH at a time "
                                         "(parallel parts need the concatenation extension, not used yet)")


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


def _filename(source: str | None) -> str:
    return (source or "").split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
