"""The Google Cloud Storage JSON API front door (``GcsEmulator``): resumable object uploads.

- ``POST /upload/storage/v1/b/{bucket}/o?uploadType=resumable&name=NAME[&ifGenerationMatch=N]`` (Bearer; optional
  JSON body: ``name``, ``contentType``, ``metadata``, expected ``md5Hash``/``crc32c``): **200** + ``Location``,
  the session URI (absolute, from the request's host).
- The session URI: Google's resumable protocol (``google_resumable.sessions``), no token needed (one sent must be
  valid: 401 once expired); the last chunk
  gets **200** and the object (``size``/``generation`` as strings, base64 ``md5Hash`` and big-endian ``crc32c``).
  ``X-Goog-Hash: crc32c=...,md5=...`` on it (or the expected hashes of the metadata) is checked: a mismatch is
  400 and no object. ``DELETE`` on it: **499**, then 404.
- ``GET``/``DELETE /storage/v1/b/{bucket}/o/{name}``: the object's metadata (``alt=media``: its bytes), 204;
  ``GET /download/storage/v1/b/{bucket}/o/{name}?alt=media``: its bytes.

Sources: ``/work/shared/api/google-resumable-youtube.md`` (protocol, GCS profile, storage-testbench's behaviour).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.api import EmulatedApi
from ..core.context import EmulatorContext
from ..core.control import PREFIX, ControlHandler, guarded
from ..google_resumable import auth
from ..google_resumable.common import base_url, json_body, upload_length
from ..google_resumable.control import SessionControls
from ..google_resumable.errors import GoogleError, json_response
from ..google_resumable.sessions import ResumableSession, ResumableSessions, SessionGone
from .config import GcsEmulatorConfig
from .objects import ObjectStore, StoredObject

CONTROL = f"{PREFIX}/gcs"
UPLOAD_PATH = "/upload/storage/v1/b/{bucket}/o"
OBJECT_PATH = "/storage/v1/b/{bucket}/o/{name:path}"
DOWNLOAD_PATH = "/download/storage/v1/b/{bucket}/o/{name:path}"
SHORT_PERSIST_FAULT, NO_RANGE_FAULT, RATE_LIMIT_FAULT = "gcs_short_persist", "gcs_no_range", "gcs_rate_limit_403"

Handler = Callable[["GcsEmulator", Request], Awaitable[Response]]


def google_endpoint(handler: Handler) -> Handler:
    """``GoogleError`` answered as Google's JSON error."""

    @functools.wraps(handler)
    async def endpoint(self: GcsEmulator, request: Request) -> Response:
        try:
            return await handler(self, request)
        except GoogleError as exc:
            return exc.response()

    return endpoint


def goog_hash(header: str | None) -> dict[str, str]:
    """``X-Goog-Hash: crc32c=<b64>,md5=<b64>`` as ``{"crc32c": ..., "md5": ...}``."""
    hashes = {}
    for item in (header or "").split(","):
        kind, sep, value = item.strip().partition("=")
        if sep and kind.strip().lower() in ("crc32c", "md5"):
            hashes[kind.strip().lower()] = value.strip()
    return hashes


def _generation_param(request: Request) -> int | None:
    text = request.query_params.get("ifGenerationMatch")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise GoogleError.bad_request(f"ifGenerationMatch must be a generation number, got {text!r}.")
    return int(text)


class GcsEmulator(EmulatedApi):
    """Google Cloud Storage (JSON API): resumable uploads, object metadata, download, delete."""

    name = "gcs"
    title = "Google Cloud Storage (JSON API uploads)"
    config_type = GcsEmulatorConfig
    fault_kinds = (SHORT_PERSIST_FAULT, NO_RANGE_FAULT, RATE_LIMIT_FAULT)

    def __init__(self, context: EmulatorContext) -> None:
        super().__init__(context)
        self.sessions = ResumableSessions(context.storage, "gcs", lambda: self.config, context.faults.roll,
                                          self._finish, allow_cancel=True)  # fmt: skip
        self.objects = ObjectStore()

    @property
    def config(self) -> GcsEmulatorConfig:
        return self.context.config.gcs

    def routes(self) -> list[BaseRoute]:
        return [
            Route(UPLOAD_PATH, self.upload, methods=["POST", "PUT", "DELETE"]),
            Route(OBJECT_PATH, self.object, methods=["GET", "DELETE"]),
            Route(DOWNLOAD_PATH, self.download, methods=["GET"]),
        ]

    def reset(self) -> None:
        self.sessions.forget_all()
        self.objects.forget_all()

    def stats(self) -> dict[str, int]:
        counts = self.sessions.counts
        return {"gcs_objects": len(self.objects.objects),
                "gcs_objects_created": self.objects.counts.get("gcs_objects_created", 0),
                "gcs_objects_deleted": self.objects.counts.get("gcs_objects_deleted", 0),
                **{f"gcs_{name}": counts.get(name, 0) for name in
                   ("sessions", "chunks", "status_queries", "gaps", "bytes_ignored", "bytes_dropped",
                    "sessions_cancelled", "sessions_dead")}}  # fmt: skip

    @classmethod
    def chunk_targets(cls, config: GcsEmulatorConfig) -> list[str]:
        return [r"(?:PUT|POST) /upload/storage/v1/b/[^/?]+/o\?\S*upload_id=\S*"]

    def rate_limited(self, method: str, path: str, retry_after_secs: int) -> Response | None:
        if re.match(r"^/(?:upload/|download/)?storage/v1/", path):
            return GoogleError.rate_limited(retry_after_secs).response()
        return None

    def authorize(self, request: Request) -> None:
        auth.authorize(request.headers.get("authorization"), self.config.access_tokens, auth.STORAGE_SCOPES)

    def check_bucket(self, bucket: str) -> None:
        buckets = self.config.buckets
        if buckets and bucket not in buckets:
            raise GoogleError.not_found(f"The specified bucket does not exist: {bucket}.")

    # -- uploads ----------------------------------------------------------------------------------

    @google_endpoint
    async def upload(self, request: Request) -> Response:
        if "upload_id" in request.query_params:
            if request.headers.get("authorization"):  # none needed; one sent must be valid (401 once expired)
                self.authorize(request)
            return await self.sessions.handle(request)
        if request.method != "POST":
            raise GoogleError.bad_request("A PUT or DELETE here needs the session's upload_id: start with POST "
                                          "?uploadType=resumable&name=NAME.", "required")  # fmt: skip
        return await self.initiate(request)

    async def initiate(self, request: Request) -> Response:
        self.authorize(request)
        bucket = request.path_params["bucket"]
        upload_type = request.query_params.get("uploadType")
        if upload_type != "resumable":
            raise GoogleError.bad_request(f"uploadType={upload_type} is not served here: use uploadType=resumable.")
        self.check_bucket(bucket)
        body = await json_body(request)
        name = request.query_params.get("name") or body.get("name")
        if not isinstance(name, str) or not name:
            raise GoogleError.bad_request("Required: the object's name (?name=... or \"name\" in the body).",
                                          "required")  # fmt: skip
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
            raise GoogleError.bad_request("metadata must be an object of string values.")
        content_type = body.get("contentType") or request.headers.get("x-upload-content-type") \
            or "application/octet-stream"  # fmt: skip
        expected = {k: body[v] for k, v in (("crc32c", "crc32c"), ("md5", "md5Hash")) if isinstance(body.get(v), str)}
        length = upload_length(request, self.config.max_size)
        generation_match = _generation_param(request)
        self.objects.check_precondition(bucket, name, generation_match)
        self.sessions.check_rate_limit()
        extra = {"bucket": bucket, "name": name, "metadata": metadata, "expected": expected,
                 "if_generation_match": generation_match}  # fmt: skip
        session = self.sessions.create(length, str(content_type), extra)
        location = f"{base_url(request)}/upload/storage/v1/b/{bucket}/o?uploadType=resumable&upload_id={session.id}"
        return Response(b"", 200, headers={"Location": location, "X-GUploader-UploadID": session.id})

    async def _finish(self, session: ResumableSession, request: Request) -> dict[str, Any]:
        extra = session.extra
        hashes = session.hashes
        actual = {"crc32c": hashes.crc32c_b64(), "md5": hashes.md5_b64()}
        claimed = {**extra["expected"], **goog_hash(request.headers.get("x-goog-hash"))}
        for kind, value in claimed.items():
            if value != actual[kind]:
                label = "CRC32C" if kind == "crc32c" else "MD5"
                raise GoogleError.bad_request(f'Provided {label} "{value}" doesn\'t match calculated {label} '
                                              f'"{actual[kind]}".')  # fmt: skip
        bucket, name = extra["bucket"], extra["name"]
        self.objects.check_precondition(bucket, name, extra["if_generation_match"])
        obj = StoredObject(bucket, name, self.objects.next_generation(), session.path, session.persisted,
                           hashes.sha256.hexdigest(), actual["md5"], actual["crc32c"], session.content_type,
                           dict(extra["metadata"]), session.created_at, session.id, 0)  # fmt: skip
        self.objects.put(obj)
        return obj.resource(base_url(request))

    # -- objects ----------------------------------------------------------------------------------

    @google_endpoint
    async def object(self, request: Request) -> Response:
        self.authorize(request)
        bucket, name = request.path_params["bucket"], request.path_params["name"]
        self.check_bucket(bucket)
        if request.method == "DELETE":
            self.objects.delete(bucket, name)
            return Response(status_code=204)
        obj = self.objects.get(bucket, name)
        if request.query_params.get("alt") == "media":
            return self._media(obj)
        return json_response(obj.resource(base_url(request)))

    @google_endpoint
    async def download(self, request: Request) -> Response:
        self.authorize(request)
        bucket = request.path_params["bucket"]
        self.check_bucket(bucket)
        return self._media(self.objects.get(bucket, request.path_params["name"]))

    @staticmethod
    def _media(obj: StoredObject) -> Response:
        return FileResponse(obj.path, media_type=obj.content_type,
                            headers={"X-Goog-Hash": f"crc32c={obj.crc32c},md5={obj.md5}",
                                     "X-Goog-Generation": str(obj.generation)})  # fmt: skip

    # -- inspection (under /_emulator/gcs, no auth) -----------------------------------------------

    def control_routes(self) -> list[BaseRoute]:
        return [
            Route(f"{CONTROL}/objects", self._control(self._list_objects), methods=["GET"]),
            Route(f"{CONTROL}/objects/{{bucket}}/{{name:path}}", self._control(self._inspect_object), methods=["GET"]),
            *SessionControls(self.sessions, self._session_view, self._control).routes(CONTROL),
        ]

    @staticmethod
    def _control(handler: ControlHandler) -> ControlHandler:
        def known(exc: Exception) -> tuple[int, str] | None:
            if isinstance(exc, SessionGone):
                return 404, str(exc)
            return (exc.code, exc.message) if isinstance(exc, GoogleError) else None

        return guarded(handler, known)

    async def _list_objects(self, request: Request) -> Response:
        return json_response([o.inspect(base_url(request)) for o in self.objects.newest_first()])

    async def _inspect_object(self, request: Request) -> Response:
        obj = self.objects.get(request.path_params["bucket"], request.path_params["name"])
        return json_response(obj.inspect(base_url(request)))

    def _session_view(self, session: ResumableSession) -> dict[str, Any]:
        return {**self.sessions.inspect(session), "bucket": session.extra["bucket"], "name": session.extra["name"]}
