"""LinkedIn's videos: the init request, the parts (``lastByte`` inclusive), ETags, finalize, status over time.

Sources: ``/work/shared/api/meta-tiktok-linkedin.md`` (section 5).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

#: The fault kind drawn at finalize (``failure_rate``).
FAILED_FAULT = "linkedin_processing_failed"
#: Extra uploads init hands out on request, each one PUT of any length.
EXTRAS = {"uploadCaptions": "captions", "uploadThumbnail": "thumbnail"}


class LinkedInError(Exception):
    """A refusal as LinkedIn's REST API sends it: ``{"message", "status"}`` (and ``code`` when it names one)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message, "status": self.status}
        if self.code:
            body["code"] = self.code
        return Response(json.dumps(body), status_code=self.status, media_type="application/json")

    @classmethod
    def bad(cls, message: str) -> LinkedInError:
        return cls(400, message)

    @classmethod
    def throttled(cls) -> LinkedInError:
        return cls(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")


@dataclass
class Part:
    """One upload instruction and what arrived for it."""

    first: int
    last: int
    etag: str | None = None

    @property
    def length(self) -> int:
        return self.last - self.first + 1


@dataclass
class Video:
    """One initialized video: owner, parts, signature and expiry of the upload URLs, then processing."""

    id: str
    token: str
    owner: str
    size: int
    parts: list[Part]
    upload_token: str
    signature: str
    created_at: float
    expires_at: float
    extras: dict[str, bool] = field(default_factory=dict)  # captions/thumbnail: requested -> received
    finalized_at: float | None = None
    failed: bool = False
    sha256: str | None = None

    @property
    def urn(self) -> str:
        return f"urn:li:video:{self.id}"

    def status(self, processing_secs: float) -> str:
        if self.finalized_at is None:
            return "WAITING_UPLOAD"
        if time.time() < self.finalized_at + processing_secs:
            return "PROCESSING"
        return "PROCESSING_FAILED" if self.failed else "AVAILABLE"

    def inspect(self, processing_secs: float) -> dict[str, Any]:
        return {
            "id": self.id, "urn": self.urn, "owner": self.owner, "size": self.size,
            "status": self.status(processing_secs), "upload_token": self.upload_token,
            "parts": [{"firstByte": p.first, "lastByte": p.last, "etag": p.etag} for p in self.parts],
            "etags": [p.etag for p in self.parts], "extras": dict(self.extras), "sha256": self.sha256,
            "upload_urls_expire_at": self.expires_at, "finalized_at": self.finalized_at,
        }  # fmt: skip


def parts_of(size: int, part_bytes: int) -> list[Part]:
    """LinkedIn's instructions: ``part_bytes`` each, ``lastByte`` inclusive, the last shorter."""
    return [Part(first, min(first + part_bytes, size) - 1) for first in range(0, size, part_bytes)]


def init_request(body: Any, owners: list[str], max_bytes: int) -> tuple[str, int, dict[str, bool]]:
    """The owner, size and requested extras of an ``initializeUploadRequest``."""
    request = body.get("initializeUploadRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict):
        raise LinkedInError.bad("The body must be {\"initializeUploadRequest\": {\"owner\", \"fileSizeBytes\", ...}}.")
    owner, size = request.get("owner"), request.get("fileSizeBytes")
    if not isinstance(owner, str) or not owner.startswith(("urn:li:person:", "urn:li:organization:")):
        raise LinkedInError.bad("initializeUploadRequest.owner must be a urn:li:person or urn:li:organization URN.")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= max_bytes:
        raise LinkedInError.bad(f"initializeUploadRequest.fileSizeBytes must be an integer from 1 to {max_bytes}.")
    extras = {}
    for key in EXTRAS:
        value = request.get(key, False)
        if not isinstance(value, bool):
            raise LinkedInError.bad(f"initializeUploadRequest.{key} must be a boolean.")
        if value:
            extras[EXTRAS[key]] = False
    if owner not in owners:
        raise LinkedInError(403, f"Not enough permissions to access: partnerApiVideos.CREATE for owner {owner}.")
    return owner, size, extras


def finalize_request(body: Any) -> tuple[str, str, list[Any]]:
    """The video URN, upload token and part ids of a ``finalizeUploadRequest``."""
    request = body.get("finalizeUploadRequest") if isinstance(body, dict) else None
    if not isinstance(request, dict):
        raise LinkedInError.bad("The body must be {\"finalizeUploadRequest\": {\"video\", \"uploadToken\", "
                                "\"uploadedPartIds\"}}.")  # fmt: skip
    video, token, ids = request.get("video"), request.get("uploadToken", ""), request.get("uploadedPartIds")
    if not isinstance(video, str) or not isinstance(token, str) or not isinstance(ids, list):
        raise LinkedInError.bad("finalizeUploadRequest needs video (a URN), uploadToken (a string) and "
                                "uploadedPartIds (the ETags, in instruction order).")  # fmt: skip
    return video, token, ids
