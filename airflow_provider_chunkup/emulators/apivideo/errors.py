"""api.video's error bodies, and every error ``type`` the emulator answers with.

api.video answers errors with ``{"type", "title", "name", "status"}`` (schemas ``bad-request``,
``not-found``; ``too-many-requests`` has no ``name``), sometimes with a ``detail``. ``type`` is a
link into its docs, and the names here are the docs' own pages (``reference/navigation.yaml`` of
``apivideo/api.video-documentation``). Titles are the docs' messages where they give one; the
emulator adds a ``detail`` saying what exactly was wrong.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.api.video/reference/"

#: type name -> (HTTP status, title)
ERRORS: dict[str, tuple[int, str]] = {
    # -- authentication (401 except where noted) --
    "authentication-missing-authorization-header": (401, "The Authorization header is missing."),
    "authentication-invalid-authorization-header-value": (401, "The Authorization header value is invalid."),
    "authentication-invalid-api-key": (401, "The API key is invalid."),
    "authentication-invalid-access-token": (401, "The access token is invalid or expired."),
    "authentication-missing-upload-token": (401, "The upload token is missing."),
    "authentication-invalid-upload-token": (401, "The upload token is invalid or expired."),
    "authentication-invalid-user-credentials": (400, "The user credentials were incorrect."),
    "authentication-invalid-refresh-token": (400, "The refresh token is invalid."),
    # -- general --
    "invalid-payload": (400, "The payload is invalid."),
    "invalid-attribute": (400, "An attribute is invalid."),
    "attribute-required": (400, "This attribute is required."),
    "resource-not-found": (404, "The requested resource was not found."),
    "too-many-requests": (429, "Too many requests."),
    # -- the uploaded file --
    "uploaded-file-no-file": (400, "There is no uploaded file in the request."),
    "uploaded-file-multiple-files": (400, "There is more than one uploaded file in the request."),
    "uploaded-file-empty": (400, "The uploaded file is empty."),
    "uploaded-file-too-large": (400, "The uploaded file is too large."),
    "video-source-already-uploaded": (400, "The source of the video is already uploaded."),
    # -- Content-Range, either mode --
    "video-content-range-malformed": (
        400,
        'The value of the "Content-Range" header is malformed, the expected format is '
        '"bytes <from_byte>-<to_byte>/<total_bytes>" or "part <part>/<total_parts>".',
    ),
    "video-content-range-started-with-part": (
        400,
        'This "Content-Range" upload has been started with "part", you cannot continue it with "bytes".',
    ),
    "video-content-range-started-with-bytes": (
        400,
        'This "Content-Range" upload has been started with "bytes", you cannot continue it with "part".',
    ),
    "video-content-range-already-initiated": (
        400,
        'This video source has already been initiated with a "Content-Range" upload.',
    ),
    # -- Content-Range: part N/M --
    "video-content-range-by-part-part-zero": (400, 'The "part" must be at least 1.'),
    "video-content-range-by-part-total-parts-zero": (400, 'The "total_parts" must be at least 1.'),
    "video-content-range-by-part-part-too-high-allowed": (400, 'The "part" is higher than the maximum allowed.'),
    "video-content-range-by-part-total-parts-too-high": (400, 'The "total_parts" is higher than the maximum allowed.'),
    "video-content-range-by-part-part-too-high-total": (400, 'The "part" is higher than the "total_parts".'),
    "video-content-range-by-part-different-total-parts": (
        400,
        'The "total_parts" is different from the one already set.',
    ),
    "video-content-range-by-part-total-parts-too-low": (400, 'The "total_parts" is lower than a part already sent.'),
    "video-content-range-by-part-part-already-sent": (400, "This part has already been sent."),
    "video-content-range-by-part-uploaded-file-too-small": (400, "The uploaded file is too small."),
    # -- Content-Range: bytes from-to/total --
    "video-content-range-by-bytes-total-bytes-zero": (400, 'The "total_bytes" must be at least 1.'),
    "video-content-range-by-bytes-total-bytes-too-high": (400, 'The "total_bytes" is higher than the maximum allowed.'),
    "video-content-range-by-bytes-total-bytes-too-low": (400, 'The "total_bytes" is lower than a byte already sent.'),
    "video-content-range-by-bytes-different-total-bytes": (
        400,
        'The "total_bytes" is different from the one already set.',
    ),
    "video-content-range-by-bytes-from-byte-too-high": (400, 'The "from_byte" is higher than the "to_byte".'),
    "video-content-range-by-bytes-to-byte-too-high-allowed": (400, 'The "to_byte" is higher than the maximum allowed.'),
    "video-content-range-by-bytes-to-byte-too-high-total": (400, 'The "to_byte" must be lower than the "total_bytes".'),
    "video-content-range-by-bytes-range-too-large": (400, "The range is larger than the maximum allowed."),
    "video-content-range-by-bytes-range-too-small": (400, "The range is smaller than the minimum allowed."),
    "video-content-range-by-bytes-range-mismatch": (400, "The uploaded file size doesn't match the range."),
    "video-content-range-by-bytes-range-overlap": (400, "The range overlaps a range already sent."),
}


class ApiVideoError(Exception):
    """A request api.video would refuse; ``body()`` is its problem document.

    ``name`` is the attribute, header or path parameter at fault (``"Content-Range"``,
    ``"file"``, ``"videoId"``); ``status`` defaults to the catalogue's.
    """

    def __init__(
        self, kind: str, name: str | None = None, detail: str | None = None, status: int | None = None
    ) -> None:
        default_status, title = ERRORS[kind]
        super().__init__(detail or title)
        self.kind = kind
        self.title = title
        self.name = name
        self.detail = detail
        self.status = status or default_status

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": DOCS + self.kind, "title": self.title}
        if self.name is not None:
            body["name"] = self.name
        body["status"] = self.status
        if self.detail:
            body["detail"] = self.detail
        return body

    @classmethod
    def not_found(cls, name: str, value: str) -> ApiVideoError:
        what = "video" if name == "videoId" else "upload token" if name == "uploadToken" else name
        return cls("resource-not-found", name=name, detail=f"There is no {what} {value!r}.")

    @classmethod
    def content_range(cls, kind: str, detail: str | None = None) -> ApiVideoError:
        return cls(kind, name="Content-Range", detail=detail)


def too_many_requests() -> dict[str, Any]:
    """The ``too-many-requests`` body (the one error without ``name``)."""
    return ApiVideoError("too-many-requests").body()
