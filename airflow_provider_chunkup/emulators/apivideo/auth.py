"""api.video credentials: API keys (HTTP Basic), access and refresh tokens, delegated upload tokens.

- ``Authorization: Basic base64("<api key>:")``, the spec's ``apiKey`` scheme, on every call
  but ``/auth/*`` and ``/upload``;
- or ``Authorization: Bearer <access token>`` from ``POST /auth/api-key`` (``/auth/refresh``
  trades a refresh token, once, for a new pair). Tokens are opaque random strings here, not
  JWTs; they die with their API key, at expiry, or by ``expire_access_tokens()``;
- ``POST /upload?token=<upload token>`` needs no header: the token is the credential.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .config import ApiVideoEmulatorConfig
from .errors import ApiVideoError

ALPHANUMERIC = string.ascii_letters + string.digits
#: api.video's upload token ``ttl`` maximum (spec ``token-creation-payload``).
MAX_UPLOAD_TOKEN_TTL = 2_147_483_647


def new_id(prefix: str) -> str:
    """An id shaped like api.video's: a two-letter prefix and 22 letters and digits."""
    return prefix + "".join(secrets.choice(ALPHANUMERIC) for _ in range(22))


def iso_time(timestamp: float) -> str:
    """``2024-07-14T23:36:07+00:00``, as api.video writes dates."""
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


@dataclass
class AccessToken:
    api_key: str
    expires_at: float


@dataclass
class UploadToken:
    token: str
    ttl: int
    created_at: float

    @property
    def expires_at(self) -> float | None:
        return self.created_at + self.ttl if self.ttl else None

    def expired(self, now: float | None = None) -> bool:
        expires_at = self.expires_at
        return expires_at is not None and (time.time() if now is None else now) >= expires_at

    def to_json(self) -> dict[str, Any]:
        expires_at = self.expires_at
        return {
            "token": self.token,
            "ttl": self.ttl,
            "createdAt": iso_time(self.created_at),
            "expiresAt": None if expires_at is None else iso_time(expires_at),
        }


class ApiVideoAuth:
    """Every credential of one emulator; reads the live config for keys and token lifetime."""

    def __init__(self, config: Callable[[], ApiVideoEmulatorConfig]) -> None:
        self._config = config
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> API key
        self.upload_tokens: dict[str, UploadToken] = {}

    # -- API key and bearer ---------------------------------------------------------------------

    def authenticate(self, header: str | None) -> None:
        """Accept a valid Basic API key or Bearer access token; raise the 401 api.video gives."""
        if not header or not header.strip():
            raise ApiVideoError("authentication-missing-authorization-header", name="Authorization")
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                raise ApiVideoError(
                    "authentication-invalid-authorization-header-value", name="Authorization",
                    detail='Basic credentials must be base64("<api key>:").',
                ) from None  # fmt: skip
            if user not in self._config().api_keys:
                raise ApiVideoError("authentication-invalid-api-key", name="Authorization")
            return
        if scheme.lower() == "bearer" and credentials:
            token = self.access_tokens.get(credentials)
            if token is None or time.time() >= token.expires_at or token.api_key not in self._config().api_keys:
                raise ApiVideoError(
                    "authentication-invalid-access-token", name="Authorization",
                    detail="Get a new one from /auth/refresh or /auth/api-key.",
                )  # fmt: skip
            return
        raise ApiVideoError(
            "authentication-invalid-authorization-header-value", name="Authorization",
            detail='Send "Basic <base64 of api key + colon>" or "Bearer <access token>".',
        )  # fmt: skip

    def issue(self, api_key: str) -> dict[str, Any]:
        """``POST /auth/api-key``: a new access and refresh token for a known key."""
        if api_key not in self._config().api_keys:
            raise ApiVideoError("authentication-invalid-user-credentials", name="")
        return self._new_pair(api_key)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """``POST /auth/refresh``: a new pair; the refresh token used is spent."""
        api_key = self.refresh_tokens.pop(refresh_token, None)
        if api_key is None or api_key not in self._config().api_keys:
            raise ApiVideoError("authentication-invalid-refresh-token", name="refreshToken")
        return self._new_pair(api_key)

    def _new_pair(self, api_key: str) -> dict[str, Any]:
        ttl = self._config().access_token_ttl_secs
        access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        self.access_tokens[access] = AccessToken(api_key, time.time() + ttl)
        self.refresh_tokens[refresh] = api_key
        return {"token_type": "Bearer", "expires_in": ttl, "access_token": access, "refresh_token": refresh}

    def expire_access_tokens(self) -> int:
        """Make every access token expired now (refresh tokens stay valid); returns how many."""
        now = time.time()
        for token in self.access_tokens.values():
            token.expires_at = min(token.expires_at, now)
        return len(self.access_tokens)

    # -- delegated upload tokens ----------------------------------------------------------------

    def create_upload_token(self, ttl: int) -> UploadToken:
        token = UploadToken(new_id("to"), ttl, time.time())
        self.upload_tokens[token.token] = token
        return token

    def get_upload_token(self, token: str) -> UploadToken:
        """The token for ``/upload-tokens/{uploadToken}``; an expired one is gone (404)."""
        found = self.upload_tokens.get(token)
        if found is None or found.expired():
            raise ApiVideoError.not_found("uploadToken", token)
        return found

    def delete_upload_token(self, token: str) -> None:
        self.get_upload_token(token)
        del self.upload_tokens[token]

    def check_upload_token(self, token: str | None) -> UploadToken:
        """The credential of ``POST /upload``: a missing or unusable token is a 401."""
        if not token:
            raise ApiVideoError("authentication-missing-upload-token", name="token")
        found = self.upload_tokens.get(token)
        if found is None or found.expired():
            raise ApiVideoError(
                "authentication-invalid-upload-token", name="token",
                detail="The upload token does not exist, was deleted, or expired.",
            )  # fmt: skip
        return found

    def forget_all(self) -> None:
        self.access_tokens.clear()
        self.refresh_tokens.clear()
        self.upload_tokens.clear()
