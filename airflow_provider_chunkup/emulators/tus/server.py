"""The tus 1.0.0 protocol over HTTP: OPTIONS, POST (creation), HEAD, PATCH, DELETE on a base path.

``TusServer`` serves one base path (``<base>`` for creation, ``<base><id>`` for an upload) over the
``TusUploadStore`` it is given. The generic server mounts one on ``tus.path``; Vimeo's upload links and
Cloudflare's creation endpoint reuse it (``handle_upload`` for a pre-created upload, ``create`` for a
creation answered with headers and a ``Location`` of their own).

Source: ``tus/tus-resumable-upload-protocol`` ``protocol.md``; choices where the spec leaves room
follow tusd (``pkg/handler/unrouted_handler.go``) and are named in place
(``/work/shared/api/tus-vimeo-cloudflare.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .config import TusEmulatorConfig
from .headers import (
    OFFSET_OCTET_STREAM,
    TUS_VERSION,
    Checksum,
    TusError,
    http_date,
    parse_checksum,
    parse_concat,
    parse_count,
    parse_metadata,
)
from .uploads import FINAL, PARTIAL, TusUpload, TusUploadStore, UploadGone

COLLECTION_METHODS = "OPTIONS, POST"
UPLOAD_METHODS = "OPTIONS, HEAD, PATCH, DELETE"


def tus_response(status: int, headers: dict[str, str] | None = None, text: str = "") -> Response:
    """Every answer carries ``Tus-Resumable`` (the spec asks it of every response but OPTIONS'; here even that)."""
    response = PlainTextResponse(text, status_code=status) if text else Response(status_code=status)
    response.headers["Tus-Resumable"] = TUS_VERSION
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc: TusError | UploadGone) -> Response:
    if isinstance(exc, UploadGone):
        text = "Upload expired" if exc.status == 410 else "Upload not found"
        return tus_response(exc.status, {"Cache-Control": "no-store"}, text)
    return tus_response(exc.status, exc.headers, exc.message)


def effective_method(request: Request) -> str:
    """``X-HTTP-Method-Override`` wins over the request's method (the spec: a server MUST honour it)."""
    return request.headers.get("x-http-method-override", request.method).strip().upper()


def has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


class TusServer:
    """tus on one base path, over ``store``; ``base_path`` and ``config`` are read live on each request."""

    def __init__(
        self, store: TusUploadStore, config: Callable[[], TusEmulatorConfig], base_path: Callable[[], str],
        *, allow_creation: bool = True, origin: str = "tus",
        location: Callable[[Request, TusUpload], str] | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self._config = config
        self.base_path = base_path
        #: False where uploads are pre-created by another call (Vimeo's upload links answer POST with 405).
        self.allow_creation = allow_creation
        self.origin = origin
        #: A front door's own ``Location`` (Cloudflare's absolute URLs); None: ``base_path`` + id.
        self._location = location

    @property
    def config(self) -> TusEmulatorConfig:
        return self._config()

    def location(self, request: Request, upload: TusUpload) -> str:
        if self._location is not None:
            return self._location(request, upload)
        path = f"{self.base_path()}{upload.id}"
        return f"{str(request.base_url).rstrip('/')}{path}" if self.config.absolute_location else path

    # -- entry points ---------------------------------------------------------------------------

    async def handle_collection(self, request: Request) -> Response:
        method = effective_method(request)
        try:
            if method == "OPTIONS":
                return self.options()
            check_version(request)
            self.check_auth(request)
            if method == "POST" and self.allow_creation and "creation" in self.config.extensions:
                return await self.create(request)
            allow = COLLECTION_METHODS if self.allow_creation and "creation" in self.config.extensions else "OPTIONS"
            return tus_response(405, {"Allow": allow}, f"Method {method} not allowed here")
        except (TusError, UploadGone) as exc:
            return error_response(exc)

    async def handle_upload(self, request: Request) -> Response:
        method = effective_method(request)
        upload_id = request.path_params["upload_id"]
        try:
            if method == "OPTIONS":
                return self.options()
            check_version(request)
            self.check_auth(request)
            if method == "HEAD":
                return self.head(upload_id)
            if method == "PATCH":
                return await self.patch(request, upload_id)
            if method == "DELETE" and "termination" in self.config.extensions:
                return self.delete(upload_id)
            allow = UPLOAD_METHODS if "termination" in self.config.extensions else "OPTIONS, HEAD, PATCH"
            return tus_response(405, {"Allow": allow}, f"Method {method} not allowed here")
        except (TusError, UploadGone) as exc:
            return error_response(exc)

    def check_auth(self, request: Request) -> None:
        """With ``bearer_tokens`` set, a request without one of them is refused (401), as hosted endpoints do."""
        tokens = self.config.bearer_tokens
        if tokens is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in tokens:
            raise TusError(401, "Unauthorized: a valid Bearer token is required", {"WWW-Authenticate": "Bearer"})

    # -- operations -----------------------------------------------------------------------------

    def options(self) -> Response:
        config = self.config
        headers = {"Tus-Version": TUS_VERSION}
        if config.extensions:
            headers["Tus-Extension"] = ",".join(config.extensions)
        if config.max_size is not None:
            headers["Tus-Max-Size"] = str(config.max_size)
        if "checksum" in config.extensions:
            headers["Tus-Checksum-Algorithm"] = ",".join(config.checksum_algorithms)
        return tus_response(204, headers)

    async def create(
        self, request: Request, extra_headers: dict[str, str] | None = None,
        created: Callable[[TusUpload], dict[str, str]] | None = None,
    ) -> Response:  # fmt: skip
        """POST: a new upload (partial, final, deferred, with or without a first body); 201 + ``Location``.

        ``created`` sees the new upload before its ``Location`` is made (a front door attaches its own
        state to ``upload.extra`` there) and returns headers of its own for the 201 (``stream-media-id``).
        """
        config, headers = self.config, request.headers
        extensions = config.extensions
        concat, part_urls = None, []
        if "upload-concat" in headers:
            if "concatenation" not in extensions:
                raise TusError(400, "Upload-Concat: the concatenation extension is not enabled")
            concat, part_urls = parse_concat(headers["upload-concat"])
        length = parse_count(headers.get("upload-length"), "Upload-Length")
        defer = headers.get("upload-defer-length")
        if defer is not None:
            if "creation-defer-length" not in extensions:
                raise TusError(400, "Upload-Defer-Length: the creation-defer-length extension is not enabled")
            if defer.strip() != "1":
                raise TusError(400, "Upload-Defer-Length must be 1")
            if length is not None:
                raise TusError(400, "Send either Upload-Length or Upload-Defer-Length, not both")
        if concat == FINAL:
            if length is not None or defer is not None:
                raise TusError(400, "A final upload (Upload-Concat: final) takes no Upload-Length")
        elif length is None and defer is None:
            raise TusError(400, "Upload-Length or Upload-Defer-Length: 1 is required")
        metadata_header = headers.get("upload-metadata")
        metadata = {}
        if metadata_header is not None:
            if not metadata_header.strip():
                # Valid, but @tus/server answers it with 400: counted so a test sees a client sending one.
                self.store.count("tus_empty_metadata")
            metadata = parse_metadata(metadata_header)
        body = has_body(request)
        checksum = None
        if body:
            if concat == FINAL:
                raise TusError(400, "A final upload (Upload-Concat: final) takes no body")
            if "creation-with-upload" not in extensions:
                raise TusError(400, "A body in the creation request needs the creation-with-upload extension")
            check_content_type(request)
            checksum = self.checksum_of(request)
        if concat == FINAL:
            parts = [self._part(url) for url in part_urls]
            upload = await self.store.concatenate(parts, metadata, metadata_header, headers["upload-concat"])
        else:
            upload = self.store.create(length, metadata, metadata_header, concat=concat, origin=self.origin)
        own = created(upload) if created is not None else {}
        answer = {"Location": self.location(request, upload), **(extra_headers or {}), **own}
        if body:
            self.store.lock(upload)
            try:
                await self.store.write(upload, request.stream(), checksum)
            except TusError as exc:
                exc.headers.update(answer)
                raise
            answer["Upload-Offset"] = str(upload.offset)
        self._expires(upload, answer)
        return tus_response(201, answer)

    def head(self, upload_id: str) -> Response:
        upload = self.store.get(upload_id)
        headers = {"Upload-Offset": str(upload.offset), "Cache-Control": "no-store"}
        if upload.length is None:
            headers["Upload-Defer-Length"] = "1"
        else:
            headers["Upload-Length"] = str(upload.length)
        if upload.metadata_header and upload.metadata_header.strip():
            headers["Upload-Metadata"] = upload.metadata_header
        if upload.concat == PARTIAL:
            headers["Upload-Concat"] = PARTIAL
        elif upload.concat == FINAL and upload.concat_header:
            headers["Upload-Concat"] = upload.concat_header
        self._expires(upload, headers)
        return tus_response(200, headers)

    async def patch(self, request: Request, upload_id: str) -> Response:
        """Append the body at ``Upload-Offset``: 204 + the new offset; the checks in tusd's order."""
        upload = self.store.get(upload_id)
        if upload.concat == FINAL:
            raise TusError(403, "A final upload (Upload-Concat: final) cannot be modified")
        check_content_type(request)
        offset = parse_count(request.headers.get("upload-offset"), "Upload-Offset")
        if offset is None:
            raise TusError(400, "Upload-Offset is required")
        self.store.lock(upload)
        written = False
        try:
            if offset != upload.offset:
                # Nothing is read or written; the client asks HEAD for the offset and goes on from there.
                raise TusError(409, f"Upload-Offset {offset} does not match the upload's offset {upload.offset}")
            self._declare_length(request, upload)
            checksum = self.checksum_of(request)
            declared = parse_count(request.headers.get("content-length"), "Content-Length")
            if declared is not None:
                max_chunk = self.config.max_chunk_bytes
                if max_chunk is not None and declared > max_chunk:
                    raise TusError(413, f"The PATCH body exceeds the server's chunk limit ({max_chunk} bytes)")
                if upload.length is not None and offset + declared > upload.length:
                    raise TusError(413, f"The body goes past Upload-Length ({upload.length} bytes)")
                self.store.check_chunk(upload, offset, declared)
            written = True
            await self.store.write(upload, request.stream(), checksum)
        finally:
            if not written:
                upload.patching = False
        headers = {"Upload-Offset": str(upload.offset)}
        self._expires(upload, headers)
        return tus_response(204, headers)

    def delete(self, upload_id: str) -> Response:
        self.store.terminate(self.store.get(upload_id))
        return tus_response(204)

    # -- pieces ---------------------------------------------------------------------------------

    def checksum_of(self, request: Request) -> Checksum | None:
        value = request.headers.get("upload-checksum")
        if value is None:
            return None
        if "checksum" not in self.config.extensions:
            # A server without the extension ignores the header; counted so a test can tell.
            self.store.count("tus_checksums_ignored")
            return None
        return parse_checksum(value, self.config.checksum_algorithms)

    def _declare_length(self, request: Request, upload: TusUpload) -> None:
        """creation-defer-length: ``Upload-Length`` on a PATCH sets a deferred length, once."""
        length = parse_count(request.headers.get("upload-length"), "Upload-Length")
        if length is None:
            return
        if upload.length is not None:
            if length != upload.length:
                raise TusError(400, f"Upload-Length is already {upload.length}; it cannot change")
            return
        if length < upload.offset:
            raise TusError(400, f"Upload-Length {length} is below the bytes already received ({upload.offset})")
        self.store.check_size(length)
        upload.length = length

    def _part(self, url: str) -> TusUpload:
        """A partial upload named in ``Upload-Concat: final;...`` by its absolute or relative URL."""
        path = urlsplit(url).path
        base = self.base_path()
        upload_id = path[len(base):] if path.startswith(base) else ""
        if not upload_id or "/" in upload_id:
            raise TusError(400, f"Upload-Concat: {url!r} is not an upload of this server")
        try:
            return self.store.get(upload_id)
        except UploadGone as exc:
            gone = "expired" if exc.status == 410 else "not found"
            raise TusError(400, f"Upload-Concat: partial upload {url!r} {gone}") from None

    def _expires(self, upload: TusUpload, headers: dict[str, Any]) -> None:
        if "expiration" in self.config.extensions and not upload.complete:
            expires = self.store.expires_at(upload)
            if expires is not None:
                headers["Upload-Expires"] = http_date(expires)


def check_version(request: Request) -> None:
    """412 + ``Tus-Version`` for a missing or other ``Tus-Resumable`` (every request but OPTIONS)."""
    version = request.headers.get("tus-resumable")
    if version is None or version.strip() != TUS_VERSION:
        shown = "missing" if version is None else repr(version)
        raise TusError(412, f"Tus-Resumable {shown}: this server speaks {TUS_VERSION}", {"Tus-Version": TUS_VERSION})


def check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_OCTET_STREAM:
        raise TusError(415, f"Content-Type must be {OFFSET_OCTET_STREAM}, got {content_type or 'none'!r}")
