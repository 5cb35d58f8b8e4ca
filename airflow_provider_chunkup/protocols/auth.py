"""httpx auth flows for the platforms' schemes. Secrets stay inside and never reach ``repr``."""

from __future__ import annotations

from collections.abc import Generator

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, Client

FORM_URLENCODED = "application/x-www-form-urlencoded"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (X OAuth 2.0 user token, api.video access token...)."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def __repr__(self) -> str:
        return "BearerAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class OAuth1Auth(httpx.Auth):
    """OAuth 1.0a user context (HMAC-SHA1), signed by oauthlib.

    Per RFC 5849 section 3.4.1.3 only ``application/x-www-form-urlencoded`` bodies enter the
    signature; multipart chunk bodies do not, so they are never read here.
    """

    def __init__(self, consumer_key: str, consumer_secret: str, token: str, token_secret: str) -> None:
        self._client = Client(consumer_key, client_secret=consumer_secret, resource_owner_key=token,
                              resource_owner_secret=token_secret, signature_method=SIGNATURE_HMAC_SHA1)

    def __repr__(self) -> str:
        return "OAuth1Auth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith(FORM_URLENCODED):
            _, headers, _ = self._client.sign(str(request.url), request.method,
                                              body=request.content.decode(),
                                              headers={"Content-Type": FORM_URLENCODED})
        else:
            _, headers, _ = self._client.sign(str(request.url), request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request
