"""OAuth 2.0 for Google APIs: a refresh token exchanged for access tokens, renewed before expiry or on a 401.

Source: developers.google.com/identity/protocols/oauth2/web-server ("Refreshing an access token"): ``POST
https://oauth2.googleapis.com/token`` with ``grant_type=refresh_token``, ``client_id``, ``client_secret``,
``refresh_token``; the answer has ``access_token`` and ``expires_in`` (about an hour). An upload that outlives
its token gets a 401 on a chunk: the token is renewed and the request sent again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any

import httpx

from airflow_provider_chunkup.errors import AuthenticationFailed, ConfigurationError, MalformedResponse
from airflow_provider_chunkup.protocols.http import NOT_THE_API, response_body

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


class GoogleOAuth(httpx.Auth):
    """Bearer access tokens from a refresh token (renewed a minute before expiry, and on a 401).

    :param on_token: called with every access token obtained, so the caller can mask it in logs.
    """

    requires_response_body = True
    REFRESH_MARGIN = 60.0

    def __init__(self, *, client_id: str, client_secret: str, refresh_token: str, token_uri: str = GOOGLE_TOKEN_URI,
                 on_token: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh = refresh_token
        self.token_uri = token_uri
        self._on_token = on_token
        self._clock = clock
        self._access: str | None = None
        self._expires = 0.0
        self.refreshes = 0
        """Access tokens obtained so far."""

    def __repr__(self) -> str:
        return f"GoogleOAuth(client_id={self._client_id!r}, ***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._access is None or self._clock() >= self._expires - self.REFRESH_MARGIN:
            yield from self._renew()
        request.headers["Authorization"] = f"Bearer {self._access}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: one new token, one more try
            yield from self._renew()
            request.headers["Authorization"] = f"Bearer {self._access}"
            yield request

    def _renew(self) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield httpx.Request("POST", self.token_uri, data={
            "grant_type": "refresh_token", "client_id": self._client_id, "client_secret": self._client_secret,
            "refresh_token": self._refresh})
        body = response_body(response)
        if response.status_code != 200:
            said = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            raise AuthenticationFailed(
                f"Google refused to renew the access token (HTTP {response.status_code}{f': {said}' if said else ''}). "
                "Check the connection's client_id, client_secret and refresh_token: the refresh token may have been "
                "revoked, or belong to another OAuth client.", status=response.status_code, body=body)
        if not isinstance(body, dict) or not body.get("access_token"):
            raise MalformedResponse(f"{self.token_uri} answered without an access_token. {NOT_THE_API}",
                                    status=response.status_code)
        self._access = str(body["access_token"])
        self._expires = self._clock() + float(body.get("expires_in") or 3600)
        self.refreshes += 1
        if self._on_token is not None:
            self._on_token(self._access)


STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"


class ServiceAccountAuth(httpx.Auth):
    """Access tokens from a service-account key (google-auth signs the JWT), renewed before expiry or on a 401.

    :param info: the key file's JSON as a mapping; or ``path``: the key file.
    :param on_token: called with every access token obtained, so the caller can mask it in logs.
    """

    REFRESH_MARGIN = 60.0

    def __init__(self, *, info: Mapping[str, Any] | None = None, path: str | None = None,
                 scopes: tuple[str, ...] = (STORAGE_SCOPE,), on_token: Callable[[str], None] | None = None) -> None:
        try:
            from google.oauth2 import service_account
        except ImportError:
            raise ConfigurationError("A service-account key needs google-auth: install "
                                     "airflow-provider-chunkup[gcs].") from None
        try:
            if info is not None:
                self._credentials = service_account.Credentials.from_service_account_info(dict(info), scopes=scopes)
            else:
                self._credentials = service_account.Credentials.from_service_account_file(str(path), scopes=scopes)
        except (ValueError, KeyError, OSError) as e:
            raise ConfigurationError(f"The service-account key cannot be read ({type(e).__name__}: {e}); check "
                                     "keyfile_dict or key_path in the connection.") from None
        self._on_token = on_token

    def __repr__(self) -> str:
        return f"ServiceAccountAuth({getattr(self._credentials, 'service_account_email', '?')!r}, ***)"

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._valid():
            await asyncio.to_thread(self._refresh)
        request.headers["Authorization"] = f"Bearer {self._credentials.token}"
        response = yield request
        if response.status_code == 401:
            await asyncio.to_thread(self._refresh)
            request.headers["Authorization"] = f"Bearer {self._credentials.token}"
            yield request

    def _valid(self) -> bool:
        expiry = self._credentials.expiry
        return bool(self._credentials.token) and (expiry is None or
                                                  expiry.timestamp() - time.time() > self.REFRESH_MARGIN)

    def _refresh(self) -> None:
        from google.auth.exceptions import RefreshError
        from google.auth.transport.requests import Request

        try:
            self._credentials.refresh(Request())
        except RefreshError as e:
            raise AuthenticationFailed(f"Google refused the service account's token request ({e}). Check the key "
                                       "(keyfile_dict or key_path): it may be deleted or disabled.", status=401) \
                from None
        if self._on_token is not None:
            self._on_token(str(self._credentials.token))
