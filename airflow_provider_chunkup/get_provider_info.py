"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_chunkup import __version__

INTEGRATION = "chunkup"


def _field(label: str, kind: str | list[str], description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": kind, **schema}}


X_CONN_FIELDS = {
    "api_version": _field("API version", ["string", "null"], "v2 (default) or v1.1 (legacy command= flow).",
                          enum=["v2", "v1.1"], default="v2"),
    "auth_type": _field("Auth type", ["string", "null"],
                        "oauth2_user: user access token in the password. oauth1_user: consumer key/secret "
                        "in login/password plus the access token and secret below.",
                        enum=["oauth2_user", "oauth1_user"], default="oauth2_user"),
    "access_token": _field("OAuth 1.0a access token", ["string", "null"], "User access token (OAuth 1.0a).",
                           format="password"),
    "access_token_secret": _field("OAuth 1.0a access token secret", ["string", "null"],
                                  "User access token secret (OAuth 1.0a).", format="password"),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"],
                         "Bytes per APPEND; default 4 MiB, at most 5 MiB, at most 1000 segments."),
    "max_in_flight": _field("Segments in flight", ["integer", "null"],
                            "APPEND requests sent at once (memory is chunk size x this).", default=3),
    "size_limits": _field("Size limits", ["string", "null"],
                          'JSON bytes per family overriding X\'s (e.g. {"video": 1073741824}).'),
    "timeout": _field("Timeout (s)", ["number", "null"], "Per-request timeout.", default=120),
    "retry_max_attempts": _field("Retry attempts", ["integer", "null"],
                                 "Tries per request for 5xx, 408, 429 and network errors.", default=5),
    "allow_insecure_http": _field("Allow plain http", ["boolean", "null"],
                                  "Send credentials over http to a non-loopback host.", default=False),
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-chunkup",
        "name": "chunkup",
        "description": "Chunked uploads of large media files to media platforms' upload APIs: X media "
                       "upload (v2 and v1.1), with local emulators for development and tests.",
        "versions": [__version__],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["service"]}],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [
            "airflow_provider_chunkup.hooks.base", "airflow_provider_chunkup.hooks.x"]}],
        "operators": [{"integration-name": INTEGRATION,
                       "python-modules": ["airflow_provider_chunkup.operators.upload"]}],
        "sensors": [{"integration-name": INTEGRATION,
                     "python-modules": ["airflow_provider_chunkup.sensors.processing"]}],
        "triggers": [{"integration-name": INTEGRATION,
                      "python-modules": ["airflow_provider_chunkup.triggers.processing"]}],
        "connection-types": [{
            "hook-class-name": "airflow_provider_chunkup.hooks.x.XMediaUploadHook",
            "connection-type": "chunkup_x",
            "hook-name": "chunkup: X media upload",
            "conn-fields": X_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema"],
                "relabeling": {"host": "API base URL (empty for X)", "login": "Consumer key (OAuth 1.0a)",
                               "password": "Access token (OAuth 2.0) or consumer secret (OAuth 1.0a)"},
                "placeholders": {"host": "https://api.x.com", "port": ""},
            },
        }],
    }
