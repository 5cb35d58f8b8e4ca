"""Reading chunkup settings from an Airflow connection, whatever form it was written in.

Connections written as URIs carry every extra as a string; the UI may prefix conn-fields as
``extra__<conn_type>__<name>``. Both are accepted, and values are coerced with clear errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from airflow_provider_chunkup._net import is_loopback
from airflow_provider_chunkup.errors import ConfigurationError

N = TypeVar("N", int, float)

# A scheme with its "://" mistyped: "http//host", "https:/host", "http:host" (but not "host:8787").
_MISTYPED_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*(//|:/|:(?!\d))")

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


class ConnectionOptions:
    """Typed access to one connection's extra fields."""

    def __init__(self, conn_id: str, conn_type: str, extra: Mapping[str, Any]) -> None:
        self.conn_id = conn_id
        self.conn_type = conn_type
        self._extra = dict(extra)

    def names(self) -> list[str]:
        """The extra's field names (without the UI's ``extra__<type>__`` prefix)."""
        prefix = f"extra__{self.conn_type}__"
        return sorted({name.removeprefix(prefix) for name in self._extra})

    def raw(self, name: str) -> Any:
        value = self._extra.get(name)
        if value in (None, ""):
            value = self._extra.get(f"extra__{self.conn_type}__{name}")
        return None if value == "" else value

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        return default if value is None else str(value)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        return self._number(name, int, "a whole number", default)

    def get_float(self, name: str, default: float | None = None) -> float | None:
        return self._number(name, float, "a number", default)

    def _number(self, name: str, kind: Callable[[Any], N], what: str, default: N | None) -> N | None:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return kind(value)
        except (TypeError, ValueError):
            raise ConfigurationError(f"Connection {self.conn_id!r}: {name} must be {what}, got {value!r}.") from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ConfigurationError(f"Connection {self.conn_id!r}: {name} must be true or false, got {value!r}.")

    def get_mapping(self, name: str) -> dict[str, Any]:
        value = self.raw(name)
        if value is None:
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigurationError(
                    f"Connection {self.conn_id!r}: {name} must be a JSON object, got {value!r}."
                ) from None
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"Connection {self.conn_id!r}: {name} must be a JSON object.")
        return dict(value)

    def retry_options(self) -> dict[str, Any]:
        return {k: v for k, v in self._extra.items() if k.startswith("retry_")}


def base_url(conn_id: str, host: str | None, port: int | None, schema: str | None,
             default: str) -> str:
    """The API's base URL from host/port/schema; ``default`` when the host is empty.

    ``host`` may be a bare name (``api.x.com``) or a URL (``http://127.0.0.1:8787``); ``schema``
    (the URI form's path) may name the scheme.
    """
    if not host:
        return default
    text = host.strip()
    mistyped = "://" not in text and _MISTYPED_SCHEME.match(text)
    if mistyped or any(c.isspace() for c in text):
        raise ConfigurationError(
            f"Connection {conn_id!r}: host {host!r} is not a valid http(s) URL or host name"
            f"{' (a mistyped ://?)' if mistyped else ' (it contains a space)'}. "
            "Use for example api.x.com or http://127.0.0.1:8787."
        )
    if "://" not in text:
        scheme = schema if schema in ("http", "https") else "https"
        text = f"{scheme}://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"Connection {conn_id!r}: host {host!r} is not a valid http(s) URL or host name. "
            "Use for example api.x.com or http://127.0.0.1:8787."
        )
    try:
        netloc_port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"Connection {conn_id!r}: host {host!r} has an invalid port. Use a port from 1 to 65535, for example "
            "http://127.0.0.1:8787, or leave the port out."
        ) from None
    if port and not netloc_port:
        netloc = f"{parts.hostname}:{port}" if ":" not in parts.hostname else f"[{parts.hostname}]:{port}"
        parts = parts._replace(netloc=netloc)
    return parts.geturl().rstrip("/")


def require_safe_transport(conn_id: str, url: str, allow_insecure_http: bool) -> None:
    """Refuse to send credentials in clear text to anything but this machine."""
    if url.startswith("http://") and not is_loopback(urlsplit(url).hostname or "") and not allow_insecure_http:
        raise ConfigurationError(
            f"Connection {conn_id!r} points at {url} over plain http, which would send credentials "
            "unencrypted. Use https, or set allow_insecure_http=true in the connection's extra if you "
            "really mean it."
        )


def undefined_connection(conn_id: str, purpose: str) -> ConfigurationError:
    """The error for a connection id Airflow does not know, naming the ways to define it."""
    return ConfigurationError(
        f"Connection {conn_id!r} ({purpose}) is not defined. Create it (Admin > Connections, `airflow connections "
        f"add {conn_id}`, or an AIRFLOW_CONN_{conn_id.upper()} environment variable), or fix the conn_id."
    )


#: Secrets this short are not cut out of messages (that would garble them); no real key or token is.
MIN_SCRUBBED = 8


def scrub(message: str, *secrets: str | None) -> str:
    """``message`` without the connection's ``secrets`` (a server may echo them back), for test_connection."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SCRUBBED:
            message = message.replace(secret, "***")
    return message


def cannot_reach(what: str, error: BaseException, host_hint: str = "") -> str:
    """test_connection's message when the request never got an answer (DNS, refused, timed out)."""
    return (f"Cannot reach {what}: {error.__cause__ or error}. Check the connection's host and port{host_hint}, and "
            "that this machine can reach it (DNS, proxy, firewall).")
