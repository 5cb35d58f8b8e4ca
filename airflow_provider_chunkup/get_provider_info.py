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


APIVIDEO_CONN_FIELDS = {
    "environment": _field("Environment", ["string", "null"],
                          "production (ws.api.video) or sandbox, when host is empty.",
                          enum=["production", "sandbox"], default="production"),
    "auth": _field("Auth", ["string", "null"], "basic: the API key on every request. bearer: /auth/api-key tokens, "
                   "refreshed before expiry.", enum=["basic", "bearer"], default="basic"),
    "upload_mode": _field("Upload mode", ["string", "null"], "part: Content-Range part N/M, parts in parallel. "
                          "bytes: byte ranges, in order.", enum=["part", "bytes"], default="part"),
    "upload_token": _field("Delegated upload token", ["string", "null"],
                           "Upload with /upload?token= instead of creating a video with the API key.",
                           format="password"),
    "until": _field("Processing done when", ["string", "null"], "playable, or encoded (every quality).",
                    enum=["playable", "encoded"], default="playable"),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"],
                         "Bytes per part; default 50 MiB, at least 5 MiB (but the last), at most 200 MiB."),
    "max_in_flight": _field("Parts in flight", ["integer", "null"],
                            "Parts sent at once (memory is chunk size x (this + 1)).", default=3),
    "timeout": _field("Timeout (s)", ["number", "null"], "Per-request timeout.", default=300),
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
                       "upload (v2 and v1.1) and api.video, with local emulators for development and tests.",
        "versions": [__version__],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["service"]}],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [
            "airflow_provider_chunkup.hooks.base", "airflow_provider_chunkup.hooks.x",
            "airflow_provider_chunkup.hooks.apivideo"]}],
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
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.apivideo.ApiVideoHook",
            "connection-type": "chunkup_apivideo",
            "hook-name": "chunkup: api.video",
            "conn-fields": APIVIDEO_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "login"],
                "relabeling": {"host": "API base URL (empty for api.video)", "password": "API key"},
                "placeholders": {"host": "https://ws.api.video"},
            },
        }],
    }
