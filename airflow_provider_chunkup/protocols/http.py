"""One async HTTP client for every protocol: retries, rate-limit waits, and error mapping."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import ssl
import time
from collections.abc import Callable, Container, Mapping
from typing import Any

import certifi
import httpx

from airflow_provider_chunkup.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    RateLimited,
    RemoteError,
    RemoteRejected,
    RetryExhausted,
    ServerError,
)
from airflow_provider_chunkup.protocols.http1 import http_transport
from airflow_provider_chunkup.protocols.retry import RetryPolicy, announced_wait

log = logging.getLogger(__name__)

ErrorFactory = Callable[[httpx.Response, str], RemoteError]
"""Turns a failed response and the step's name into the API's own error, in its own words."""

BODY_EXCERPT = 2000

NOT_THE_API = ("Check that the connection's host is the API's base URL (not a proxy, a login page or another "
               "service); if it is, the API changed and chunkup needs an update.")
"""The fix to name when a 2xx answer is not what the API sends."""


def response_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or the start of the text when it is not JSON."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text[:BODY_EXCERPT]


def json_object(response: httpx.Response, step: str) -> dict[str, Any]:
    """A 2xx body that must be a JSON object, or :class:`MalformedResponse` saying what came instead."""
    body = response_body(response)
    if not isinstance(body, dict):
        raise MalformedResponse(f"{step} answered HTTP {response.status_code} with a body that is not a JSON "
                                f"object: {str(body)[:200]!r}. {NOT_THE_API}", status=response.status_code, body=body)
    return body


def error_class(status: int) -> type[RemoteError]:
    """The error class a status maps to, before any API-specific refinement."""
    if status in (401, 403):
        return AuthenticationFailed
    if status == 429:
        return RateLimited
    if status >= 500 or status == 408:
        return ServerError
    return RemoteRejected


def generic_error(response: httpx.Response, step: str) -> RemoteError:
    body = response_body(response)
    text = body if isinstance(body, str) else json.dumps(body)
    cls = error_class(response.status_code)
    return cls(f"{step} failed with HTTP {response.status_code}: {text[:BODY_EXCERPT]}",
               status=response.status_code, body=body)


def _certificate_failure(error: BaseException) -> str | None:
    """Why the server's certificate was refused, when that is what failed the request."""
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or seen)
        seen = seen.__cause__ or seen.__context__
    return None


def _host(error: httpx.TransportError) -> str:
    try:
        return error.request.url.host or "the host"
    except RuntimeError:  # no request attached
        return "the host"


#: Environment variables naming extra CA certificates to trust (a company CA, a TLS-inspecting proxy).
CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def _tls_context() -> ssl.SSLContext:
    """A verifying TLS context: certifi's CAs plus any bundle named by ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE``."""
    return _tls_context_for(tuple(os.environ.get(name) or "" for name in CA_BUNDLE_VARIABLES))


@functools.cache
def _tls_context_for(extra_bundles: tuple[str, ...]) -> ssl.SSLContext:
    """One context per set of bundles and process: loading certifi's bundle costs ~20 ms per client otherwise."""
    context = ssl.create_default_context(cafile=certifi.where())
    for bundle in dict.fromkeys(b for b in extra_bundles if b):
        try:
            context.load_verify_locations(cafile=bundle)
        except (OSError, ssl.SSLError) as e:
            raise ConfigurationError(
                f"The CA bundle {bundle} (from SSL_CERT_FILE or REQUESTS_CA_BUNDLE) cannot be loaded: {e}. Point the "
                "variable at a PEM file of CA certificates, or unset it."
            ) from e
    return context


class _SetCookieAware(httpx.Cookies):
    """httpx's cookie store, reading an answer only when it sets a cookie.

    httpx hands every answer to the stdlib's cookie jar, which first wraps the request and the answer in
    urllib's objects: a tenth of an upload's event-loop time at small chunks. Answers that set no cookie (most
    upload APIs') are skipped; one that does (a load balancer's sticky session) is stored as httpx stores it.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class _AsyncClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` keeping its cookies in a :class:`_SetCookieAware` store."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cookies = kwargs.get("cookies") or {}

    @property  # type: ignore[override]
    def cookies(self) -> httpx.Cookies:
        return self._set_cookie_aware

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._set_cookie_aware = _SetCookieAware(cookies)


URLS_KEPT = 64
"""Request URLs an :class:`ApiClient` keeps resolved against its base URL (an upload's few routes)."""


class ApiClient:
    """An ``httpx.AsyncClient`` that retries what is worth retrying and explains the rest.

    :param transport: an httpx transport, so tests can swap the network without patching.
    :param retry_when: answers worth retrying besides the policy's statuses (Google's rate-limit 403s).
    """

    def __init__(self, base_url: str, *, auth: httpx.Auth | None = None, timeout: float = 120.0,
                 retry: RetryPolicy | None = None, error_factory: ErrorFactory = generic_error,
                 headers: Mapping[str, str] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 retry_when: Callable[[httpx.Response], bool] | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._error_factory = error_factory
        self._retry_when = retry_when
        if transport is None:
            transport = http_transport(verify=_tls_context(),
                                       limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
        self._client = _AsyncClient(
            base_url=base_url, auth=auth, headers=dict(headers or {}), transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
        )
        self.retries = 0
        """Retried requests so far, for progress logs and benchmarks."""
        self._urls: dict[str, httpx.URL] = {}

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _resolved(self, url: str | httpx.URL) -> str | httpx.URL:
        """``url`` joined to the base URL as httpx joins it, once per URL (httpx parses and joins it per request)."""
        if not isinstance(url, str):
            return url
        resolved = self._urls.get(url)
        if resolved is None:
            if len(self._urls) >= URLS_KEPT:
                self._urls.clear()
            resolved = self._urls[url] = self._client.build_request("GET", url).url
        return resolved

    async def request(self, method: str, url: str, *, step: str, retry: RetryPolicy | None = None,
                      accept: Container[int] = (), **kwargs: Any) -> httpx.Response:
        """Send, retrying transport failures and retryable statuses; raise the API's error otherwise.

        ``retry`` replaces the client's policy for this request (a request that is not safe to repeat
        blindly passes a single attempt and decides itself). ``accept``: statuses besides 2xx that are
        answers, not errors (Google's 308 "resume incomplete").
        """
        policy = retry or self.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._client.request(method, self._resolved(url), **kwargs)
            except httpx.TransportError as e:
                reason = _certificate_failure(e)
                if reason is not None:  # the same certificate fails every time: no retry
                    raise ServerError(
                        f"{step} failed: the TLS certificate of {_host(e)} could not be verified ({reason}). chunkup "
                        "verifies TLS against certifi's CA bundle plus SSL_CERT_FILE's: give the host a certificate "
                        "a trusted CA signed, point SSL_CERT_FILE at your CA's PEM file, or check that the "
                        "connection's host is the API's."
                    ) from e
                error: RemoteError = ServerError(f"{step} failed: {type(e).__name__}: {e}")
                wait = policy.backoff(attempt)
            else:
                if response.is_success or response.status_code in accept:
                    return response
                error = self._error_factory(response, step)
                retryable = response.status_code in policy.statuses or bool(self._retry_when
                                                                            and self._retry_when(response))
                if not retryable:
                    raise error
                announced = announced_wait(response.headers)
                wait = policy.backoff(attempt)
                if response.status_code == 429 and announced is not None:
                    wait = announced + policy.backoff(1) * 0.1
                    if isinstance(error, RateLimited):
                        error.retry_after = announced
            elapsed = time.monotonic() - started
            if attempt >= policy.max_attempts or elapsed + wait > policy.max_elapsed:
                if isinstance(error, RateLimited):
                    raise error
                raise RetryExhausted(
                    f"{error} (gave up after {attempt} attempts in {elapsed:.1f} s)",
                    status=error.status, body=error.body,
                ) from error
            self.retries += 1
            log.warning("%s; retry %d of %d in %.1f s", error, attempt, policy.max_attempts - 1, wait)
            await asyncio.sleep(wait)
