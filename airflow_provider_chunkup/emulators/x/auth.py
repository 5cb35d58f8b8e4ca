"""Authentication of X media requests: OAuth 2.0 bearer tokens and OAuth 1.0a signatures.

OAuth 1.0a signatures are recomputed with oauthlib's RFC 5849 helpers from what the client sent:
the method, the URL it used (scheme, ``Host`` header, path), query parameters, the ``oauth_*``
header parameters and, for ``application/x-www-form-urlencoded`` bodies only, the body's
parameters (RFC 5849 section 3.4.1.3). Nonces are not remembered: replay protection is no use
on a loopback test server, and it would make retried requests fail for the wrong reason.
"""

from __future__ import annotations

import enum
import hmac
import time
from types import SimpleNamespace

from oauthlib.oauth1.rfc5849 import signature, utils
from starlette.requests import Request

from .config import XEmulatorConfig

SIGNERS = {
    "HMAC-SHA1": signature.sign_hmac_sha1_with_client,
    "HMAC-SHA256": signature.sign_hmac_sha256_with_client,
}


class AuthOutcome(enum.Enum):
    OK = "ok"
    UNAUTHORIZED = "unauthorized"
    #: Authenticated, but the token lacks the scope the route needs (``media.write``, ``tweet.write``).
    FORBIDDEN = "forbidden"


#: OAuth 2.0 scopes a route may need; reads (``tweet.read``, ``users.read``) every accepted token has.
MEDIA_WRITE = "media.write"
TWEET_WRITE = "tweet.write"
READ = "read"


def auth_kind(request: Request) -> str:
    """``bearer`` (OAuth 2.0) or ``oauth1`` (OAuth 1.0a), from an authenticated request's header."""
    scheme = request.headers.get("authorization", "").strip().partition(" ")[0].lower()
    return "bearer" if scheme == "bearer" else "oauth1"


def authenticate(
    request: Request,
    config: XEmulatorConfig,
    form_params: list[tuple[str, str]] | None = None,
    scope: str = MEDIA_WRITE,
) -> AuthOutcome:
    """Check the ``Authorization`` header; ``form_params`` are a urlencoded body's fields.

    A bearer token without ``scope`` is FORBIDDEN; OAuth 1.0a user tokens carry every scope.
    """
    header = request.headers.get("authorization", "").strip()
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        token = credentials.strip()
        if token not in config.bearer_tokens | config.forbidden_tokens | config.no_tweet_write_tokens:
            return AuthOutcome.UNAUTHORIZED
        lacking = {MEDIA_WRITE: config.forbidden_tokens, TWEET_WRITE: config.no_tweet_write_tokens}.get(scope, set())
        return AuthOutcome.FORBIDDEN if token in lacking else AuthOutcome.OK
    if scheme == "oauth":
        return AuthOutcome.OK if _oauth1_signature_valid(request, config, form_params) else AuthOutcome.UNAUTHORIZED
    return AuthOutcome.UNAUTHORIZED


def _oauth1_signature_valid(
    request: Request, config: XEmulatorConfig, form_params: list[tuple[str, str]] | None
) -> bool:
    header = request.headers["authorization"]
    try:
        oauth = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
        params = signature.collect_parameters(
            uri_query=request.url.query,
            body=form_params or [],
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
    except ValueError:
        return False
    consumer_secret = config.oauth1_consumers.get(oauth.get("oauth_consumer_key", ""))
    token_secret = config.oauth1_tokens.get(oauth.get("oauth_token", ""))
    signer = SIGNERS.get(oauth.get("oauth_signature_method", ""))
    if consumer_secret is None or token_secret is None or signer is None:
        return False
    if oauth.get("oauth_version", "1.0") != "1.0" or not oauth.get("oauth_nonce"):
        return False
    try:
        skew = abs(time.time() - int(oauth.get("oauth_timestamp", "")))
    except ValueError:
        return False
    if skew > config.oauth1_timestamp_tolerance_secs:
        return False
    host = request.headers.get("host") or request.url.netloc
    base_uri = signature.base_string_uri(f"{request.url.scheme}://{host}{request.url.path}")
    base_string = signature.signature_base_string(request.method, base_uri, signature.normalize_parameters(params))
    secrets = SimpleNamespace(client_secret=consumer_secret, resource_owner_secret=token_secret)
    expected = signer(base_string, secrets)
    return hmac.compare_digest(expected, oauth.get("oauth_signature", ""))
