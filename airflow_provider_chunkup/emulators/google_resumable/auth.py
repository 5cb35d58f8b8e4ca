"""Google OAuth 2.0 as a local stand-in: ``POST /token`` (refresh-token grant) and Bearer checks.

Tokens ``/token`` issues are signed, not stored: ``ya29.<payload>.<signature>`` carries its expiry and scopes, so
both front doors (YouTube, GCS) check them without sharing state, and a token outlives an emulator reset as a real
one outlives nothing on Google's side. The key is drawn per process. Fixed tokens from the config never expire and
carry every scope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response

from .errors import GoogleError, json_response

SCOPE_ROOT = "https://www.googleapis.com/auth/"
YOUTUBE = SCOPE_ROOT + "youtube"
YOUTUBE_UPLOAD = SCOPE_ROOT + "youtube.upload"
YOUTUBE_READONLY = SCOPE_ROOT + "youtube.readonly"
YOUTUBE_FORCE_SSL = SCOPE_ROOT + "youtube.force-ssl"
YOUTUBE_PARTNER = SCOPE_ROOT + "youtubepartner"
STORAGE_READ_WRITE = SCOPE_ROOT + "devstorage.read_write"
STORAGE_FULL = SCOPE_ROOT + "devstorage.full_control"
CLOUD_PLATFORM = SCOPE_ROOT + "cloud-platform"
#: Scopes a configured OAuth client gets when its entry names none.
DEFAULT_CLIENT_SCOPES = [YOUTUBE, YOUTUBE_UPLOAD, YOUTUBE_FORCE_SSL, STORAGE_READ_WRITE]
#: What each kind of call needs (any one of them).
INSERT_SCOPES = (YOUTUBE_UPLOAD, YOUTUBE, YOUTUBE_FORCE_SSL, YOUTUBE_PARTNER)
READ_SCOPES = (YOUTUBE_READONLY, YOUTUBE, YOUTUBE_FORCE_SSL, YOUTUBE_PARTNER)
WRITE_SCOPES = (YOUTUBE, YOUTUBE_FORCE_SSL, YOUTUBE_PARTNER)
STORAGE_SCOPES = (STORAGE_READ_WRITE, STORAGE_FULL, CLOUD_PLATFORM)

_KEY = secrets.token_bytes(32)
PREFIX = "ya29."


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: its scopes (None: all) and when it expires (None: never)."""

    scopes: frozenset[str] | None
    expires_at: float | None

    def allows(self, needed: Iterable[str]) -> bool:
        return self.scopes is None or any(scope in self.scopes for scope in needed)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(client_id: str, scopes: list[str], lifetime_secs: float) -> str:
    """A signed access token for ``scopes``, valid ``lifetime_secs`` from now."""
    payload = json.dumps({"c": client_id, "s": scopes, "e": time.time() + lifetime_secs, "n": secrets.token_hex(4)})
    body = _b64(payload.encode())
    return f"{PREFIX}{body}.{_b64(hmac.new(_KEY, body.encode(), hashlib.sha256).digest())}"


def read_token(token: str) -> Grant | None:
    """The grant of a token ``issue`` signed (expired or not); None for anything else."""
    if not token.startswith(PREFIX) or token.count(".") != 2:
        return None
    body, signature = token[len(PREFIX):].split(".")
    expected = _b64(hmac.new(_KEY, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        payload = json.loads(_unb64(body))
        return Grant(frozenset(payload["s"]), float(payload["e"]))
    except (ValueError, KeyError, TypeError):
        return None


def authorize(header: str | None, fixed_tokens: Iterable[str], needed: Iterable[str]) -> Grant:
    """The grant behind ``Authorization: Bearer <token>``; 401 (missing, unknown, expired) or 403 (scope)."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if not header or scheme.lower() != "bearer" or not token:
        raise GoogleError.unauthorized("Request is missing required authentication credential. Expected OAuth 2 "
                                       "access token: send 'Authorization: Bearer <access token>'.")  # fmt: skip
    grant = Grant(None, None) if token in set(fixed_tokens) else read_token(token)
    if grant is None:
        raise GoogleError.unauthorized("Request had invalid authentication credentials: the access token is not "
                                       "one this server issued or accepts.")  # fmt: skip
    if grant.expires_at is not None and grant.expires_at <= time.time():
        raise GoogleError.unauthorized("Request had invalid authentication credentials: the access token expired; "
                                       "refresh it at /token and retry.")  # fmt: skip
    needed = tuple(needed)
    if not grant.allows(needed):
        raise GoogleError.insufficient_scope(", ".join(needed))
    return grant


def token_endpoint(raw: bytes, clients: dict[str, Any], lifetime_secs: float) -> Response:
    """``POST /token`` with ``grant_type=refresh_token``: a new access token, or Google's OAuth errors."""
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}

    def refuse(error: str, description: str) -> Response:
        return json_response({"error": error, "error_description": description}, 400)

    if form.get("grant_type") != "refresh_token":
        return refuse("unsupported_grant_type", "Only grant_type=refresh_token is served here.")
    client = clients.get(form.get("client_id", ""))
    if not isinstance(client, dict) or client.get("secret") != form.get("client_secret"):
        return refuse("invalid_grant", "The OAuth client was not found or its secret does not match.")
    if form.get("refresh_token") not in client.get("refresh_tokens", []):
        return refuse("invalid_grant", "Token has been expired or revoked.")
    allowed = list(client.get("scopes") or DEFAULT_CLIENT_SCOPES)
    asked = form.get("scope", "").split()
    if any(scope not in allowed for scope in asked):
        return refuse("invalid_scope", "The requested scopes are more than the refresh token was granted.")
    scopes = asked or allowed
    return json_response({"access_token": issue(form["client_id"], scopes, lifetime_secs),
                          "expires_in": int(lifetime_secs), "token_type": "Bearer", "scope": " ".join(scopes)})
