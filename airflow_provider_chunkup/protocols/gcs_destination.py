"""Cloud Storage as a destination: an object written over the JSON API's resumable upload.

Sources: cloud.google.com/storage/docs/performing-resumable-uploads, ``.../json_api/v1/objects/insert``,
``.../docs/data-validation`` (md5Hash, crc32c), ``.../docs/resumable-uploads`` (cancel with DELETE: 499);
the notes in ``google-resumable-youtube.md``.

The object's md5 and CRC32C are computed as the chunks pass (in the reader thread, beside the sha256) and
checked against the ``md5Hash``/``crc32c`` Cloud Storage reports for the finished object; a mismatch deletes
that generation of the object and fails. Abort cancels the session (``DELETE`` of the session URI).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from airflow_provider_chunkup.errors import ConfigurationError, RemoteRejected
from airflow_provider_chunkup.protocols.google_resumable import GoogleResumableUpload
from airflow_provider_chunkup.protocols.session import (
    ProcessingStatus,
    UploadResult,
    UploadSession,
    UploadSpec,
    file_name,
)

MAX_OBJECT = 5 * 1024**4
"""Largest object Cloud Storage takes (5 TiB)."""
CANCELLED = 499
"""Cloud Storage's answer to the DELETE of a session: "Client Closed Request"."""
OPTIONS = ("name", "content_type", "metadata", "cache_control", "content_disposition", "content_language",
           "if_generation_match", "storage_class")


class GcsObjectUpload(GoogleResumableUpload):
    """Writes one object to a bucket with a resumable upload, its checksums checked at the end.

    :param bucket: the default bucket (``upload_options`` may not change it: a connection serves one bucket).
    :param prefix: put before the object name derived from the source's file name (``videos/``).
    :param create_only: send ``ifGenerationMatch=0``: never overwrite an existing object (412 instead).
    """

    api: ClassVar[str] = "gcs"
    display_name: ClassVar[str] = "Cloud Storage"
    abortable: ClassVar[bool] = True
    digests: ClassVar[tuple[str, ...]] = ("md5", "crc32c")
    complete_statuses: ClassVar[tuple[int, ...]] = (200, 201)

    def __init__(self, *, bucket: str, prefix: str = "", create_only: bool = False, **kwargs: Any) -> None:
        if not bucket or "/" in bucket:
            raise ConfigurationError(f"Cloud Storage needs a bucket name (no slashes), got {bucket!r}: set the "
                                     "connection's bucket.")
        self.bucket = bucket
        self.prefix = prefix
        self.create_only = create_only
        super().__init__(**kwargs)

    def object_name(self, spec: UploadSpec) -> str:
        name = spec.options.get("name")
        if name is None:
            name = f"{self.prefix}{file_name(spec.source)}"
        name = str(name)
        if not name or len(name.encode()) > 1024 or name in (".", "..") or any(c in name for c in "\r\n"):
            raise ConfigurationError(f"Object name {name!r} is not one Cloud Storage takes: 1 to 1024 bytes of UTF-8, "
                                     "no line breaks, not . or ..")
        return name

    def validate(self, spec: UploadSpec) -> None:
        super().validate(spec)
        unknown = sorted(set(spec.options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"Cloud Storage upload_options take {', '.join(OPTIONS)}, not "
                                     f"{', '.join(unknown)}.")
        self.object_name(spec)
        metadata = spec.options.get("metadata")
        if metadata is not None and not isinstance(metadata, Mapping):
            raise ConfigurationError("metadata must be a mapping of your own keys to text (the object's custom "
                                     "metadata).")
        if spec.total_bytes > MAX_OBJECT:
            raise ConfigurationError(f"The source is {spec.total_bytes} bytes; Cloud Storage objects are at most "
                                     f"{MAX_OBJECT} bytes (5 TiB).")

    def initiate(self, spec: UploadSpec) -> tuple[str, dict[str, str], dict[str, Any] | None]:
        name = self.object_name(spec)
        resource: dict[str, Any] = {"name": name}
        content_type = spec.options.get("content_type") or spec.media_type
        if content_type:
            resource["contentType"] = str(content_type)
        for option, field in (("cache_control", "cacheControl"), ("content_disposition", "contentDisposition"),
                              ("content_language", "contentLanguage"), ("storage_class", "storageClass")):
            if spec.options.get(option) is not None:
                resource[field] = str(spec.options[option])
        if spec.options.get("metadata"):
            resource["metadata"] = {str(k): str(v) for k, v in spec.options["metadata"].items()}
        params = {"name": name}
        match = spec.options.get("if_generation_match", 0 if self.create_only else None)
        if match is not None:
            params["ifGenerationMatch"] = str(int(match))
        return f"/upload/storage/v1/b/{self.bucket}/o", params, resource

    async def result(self, session: UploadSession, resource: Mapping[str, Any]) -> UploadResult:
        name, generation = str(resource.get("name") or ""), str(resource.get("generation") or "")
        size = _int(resource.get("size"))
        problems = []
        if size != session.total_bytes:
            problems.append(f"size {size} instead of {session.total_bytes}")
        for algorithm, field in (("md5", "md5Hash"), ("crc32c", "crc32c")):
            ours, theirs = session.digests.get(algorithm), _hex(resource.get(field))
            if ours and theirs and ours != theirs:
                problems.append(f"{algorithm} {theirs} instead of the file's {ours}")
        if problems:
            await self._delete_object(name, generation)
            raise RemoteRejected(
                f"Cloud Storage stored gs://{self.bucket}/{name} with {'; '.join(problems)}: the bytes changed on the "
                "way or the source changed while it was read. That generation was deleted; upload again.",
                status=200, body=dict(resource))
        return UploadResult(
            api=self.api, media_id=str(resource.get("id") or f"{self.bucket}/{name}/{generation}"),
            size=session.total_bytes, conn_id=session.conn_id,
            sha256=session.digests.get("sha256"), md5=session.digests.get("md5"), processing=None,
            details={"url": f"gs://{self.bucket}/{name}", "bucket": self.bucket, "name": name,
                     "generation": generation, "md5Hash": resource.get("md5Hash"),
                     "crc32c": resource.get("crc32c"), "contentType": resource.get("contentType")},
            transfer_seconds=round(session.transfer_seconds, 3) or None,
        )

    async def status(self, media_id: str, until: str | None = None) -> ProcessingStatus:
        """An object needs no processing: ready once written."""
        return ProcessingStatus(state="none")

    async def abort(self, session: UploadSession) -> bool:
        """Cancel the session: ``DELETE`` of its URI (499, or 404 when it is already gone)."""
        uri = session.remote.get("session_uri")
        if not uri or session.remote.get("resource"):
            return False
        await self.client.request("DELETE", str(uri), step=f"Cloud Storage cancel of upload {session.media_id}",
                                  accept=(CANCELLED, 404, 410))
        return True

    async def _delete_object(self, name: str, generation: str) -> None:
        params = {"ifGenerationMatch": generation} if generation else {}
        await self.client.request("DELETE", f"/storage/v1/b/{self.bucket}/o/{quote(name, safe='')}",
                                  params=params, step=f"Cloud Storage delete of gs://{self.bucket}/{name}",
                                  accept=(404,))


def _hex(value: Any) -> str | None:
    """A base64 checksum as Cloud Storage reports it, in hex like chunkup's."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
