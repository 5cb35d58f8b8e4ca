"""Graph's error JSON ``{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_msg",
"fbtrace_id", "error_data"?}}`` and the codes the emulator answers.

From ``/work/shared/api/meta-tiktok-linkedin.md`` (section 1): the subcodes 1363019, 1363033 (transient), 1363030
(session lost), 1363037 (wrong offset, code 6001, with ``error_data``), 1363042 (no permission), 1363045 (size
differs), 1363022/1363023 (size bounds). The notes give the code only for 1363037; the emulator answers 6001 for
the transfer's retryable ones and 6000 for the others. Beyond the notes, Graph's well-known 100 (invalid parameter;
subcode 33 for an unknown object), 190 (token), 4/17/32/613 (throttling) and Instagram's 9007/2207027 (not ready to
publish).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from starlette.responses import Response

INVALID_PARAMETER = 100
UNKNOWN_OBJECT = 33
INVALID_TOKEN = 190
UPLOAD_FAILED, UPLOAD_TRANSIENT = 6000, 6001
TRANSIENT, LOST, SIZE_SMALL, SIZE_LARGE, PARTIAL, WRONG_OFFSET, NO_PERMISSION, SIZE_MISMATCH = (
    1363019, 1363030, 1363022, 1363023, 1363033, 1363037, 1363042, 1363045)  # fmt: skip
NOT_READY, NOT_READY_SUBCODE = 9007, 2207027
THROTTLE_MESSAGES = {
    4: "Application request limit reached",
    17: "User request limit reached",
    32: "Page request limit reached",
    613: "Calls to this api have exceeded the rate limit.",
}

_trace = itertools.count(1)


class GraphError(Exception):
    """A request Graph refuses: HTTP status (400 unless said), code, subcode, message and what the user is told."""

    def __init__(self, code: int, message: str, subcode: int | None = None, *, user_msg: str = "",
                 transient: bool = False, data: dict[str, Any] | None = None, status: int = 400) -> None:  # fmt: skip
        super().__init__(message)
        self.code = code
        self.subcode = subcode
        self.message = message
        self.user_msg = user_msg
        self.transient = transient
        self.data = data
        self.status = status

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": "OAuthException", "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["is_transient"] = self.transient
        if self.user_msg:
            error["error_user_title"] = "Video upload"
            error["error_user_msg"] = self.user_msg
        if self.data is not None:
            error["error_data"] = self.data
        error["fbtrace_id"] = f"Emu{next(_trace):08d}"
        return {"error": error}

    def response(self) -> Response:
        return Response(json.dumps(self.body()), status_code=self.status, media_type="application/json")

    @classmethod
    def invalid(cls, message: str) -> GraphError:
        return cls(INVALID_PARAMETER, f"(#100) {message}")

    @classmethod
    def unknown_object(cls, object_id: str) -> GraphError:
        message = (
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation."
        )
        return cls(INVALID_PARAMETER, message, UNKNOWN_OBJECT)

    @classmethod
    def token(cls, message: str) -> GraphError:
        return cls(INVALID_TOKEN, message)

    @classmethod
    def wrong_offset(cls, start: int, end: int, why: str) -> GraphError:
        return cls(UPLOAD_TRANSIENT, f"Invalid start offset: {why}", WRONG_OFFSET,
                   user_msg="The chunk was not the one expected: resend the window in error_data.",
                   data={"start_offset": str(start), "end_offset": str(end)})  # fmt: skip

    @classmethod
    def transient(cls, subcode: int = TRANSIENT) -> GraphError:
        what = "The file was only partly received" if subcode == PARTIAL else "There was a problem uploading your video"
        return cls(UPLOAD_TRANSIENT, f"{what}. Please try again.", subcode, transient=True,
                   user_msg="A temporary problem: send the same chunk again.")  # fmt: skip

    @classmethod
    def session_lost(cls) -> GraphError:
        return cls(UPLOAD_FAILED, "Your video upload timed out before it could be completed.", LOST,
                   user_msg="The upload session is gone: start a new upload.")  # fmt: skip

    @classmethod
    def no_permission(cls, node: str) -> GraphError:
        return cls(UPLOAD_FAILED, f"No permission to upload videos to {node!r}.", NO_PERMISSION,
                   user_msg="This token may not upload videos here.")  # fmt: skip

    @classmethod
    def throttled(cls, code: int) -> GraphError:
        return cls(code, f"({'#' + str(code)}) {THROTTLE_MESSAGES[code]}", transient=True)
