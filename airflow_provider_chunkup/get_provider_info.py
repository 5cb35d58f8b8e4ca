"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_chunkup import __version__

INTEGRATION = "chunkup"


def _field(label: str, kind: str | list[str], description: str, **schema: Any) -> dict[str, Any]:
    return {"label": label, "description": description, "schema": {"type": kind, **schema}}


def _common(timeout: int) -> dict[str, Any]:
    """The fields every chunkup connection has: transport and retry settings."""
    return {
        "timeout": _field("Timeout (s)", ["number", "null"], "Per-request timeout.", default=timeout),
        "retry_max_attempts": _field("Retry attempts", ["integer", "null"],
                                     "Tries per request for 5xx, 408, 429 and network errors.", default=5),
        "restart_expired": _field("Restart expired uploads", ["boolean", "null"],
                                  "When the remote upload expired, append starts a new one instead of failing.",
                                  default=False),
        "allow_insecure_http": _field("Allow plain http", ["boolean", "null"],
                                      "Send credentials over http to a non-loopback host.", default=False),
    }


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
    "max_post_length": _field("Post length limit", ["integer", "null"],
                              "Weighted characters per post: 280, or up to 25000 for accounts that may post longer "
                              "(X Premium).", default=280),
    **_common(timeout=120),
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
    **_common(timeout=300),
}



CONTENT_RANGE_CONN_FIELDS = {
    "chunk_path": _field("Chunk path", ["string", "null"], "Where chunks go.", default="/api/v2/media/upload/chunk/"),
    "complete_path": _field("Complete path", ["string", "null"], "Where the upload is completed with its md5.",
                            default="/api/v2/media/upload/complete/"),
    "file_field": _field("File field", ["string", "null"],
                         "Multipart field of the chunk. Empty: image or document by the media's kind (SelfCommunity); "
                         "file for stock django-chunked-upload.", enum=["image", "document", "file"]),
    "complete_type": _field("Complete type", ["string", "null"],
                            "The complete step's type. Empty: image or doc by the media's kind (SelfCommunity), none "
                            "for the kind file.",
                            enum=["image", "doc", "eimage"]),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"], "Bytes per chunk.", default=204800),
    "max_chunk_size": _field("Largest chunk (bytes)", ["integer", "null"], "The server's limit.", default=204800),
    "size_limits": _field("Size limits", ["string", "null"],
                          'JSON bytes per kind (defaults {"image": 5242880, "document": 52428800}).'),
    **_common(timeout=120),
}


TUS_CONN_FIELDS = {
    "metadata": _field("Metadata", ["string", "null"],
                       'JSON object added to every upload\'s Upload-Metadata, besides filename and filetype '
                       '(e.g. {"bucketName": "media"}).'),
    "headers": _field("Headers", ["string", "null"],
                      "JSON object of headers sent with every request (an auth scheme other than Bearer).",
                      format="password"),
    "checksum": _field("Chunk checksum", ["string", "null"],
                       "Upload-Checksum algorithm, used where the server announces the checksum extension. Empty: "
                       "sha1 when announced.", enum=["sha1", "sha256", "md5", "none"]),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"], "Bytes per PATCH; default 8 MiB.",
                         default=8388608),
    "max_chunk_size": _field("Largest chunk (bytes)", ["integer", "null"], "A limit of the server or a proxy in "
                             "front of it.", default=1073741824),
    "max_in_flight": _field("Parts in flight", ["integer", "null"], "Above 1, where the server announces "
                            "concatenation: segments go as partial uploads at once, then one final upload.",
                            default=1),
    "profile": _field("Service profile", ["string", "null"], "supabase: Supabase Storage's resumable endpoint "
                      "(6 MiB chunks, bucketName/objectName metadata). Empty: a plain tus server.",
                      enum=["supabase"]),
    "bucket": _field("Bucket (profile)", ["string", "null"], "The Supabase Storage bucket to upload to."),
    "upsert": _field("Overwrite (profile)", ["boolean", "null"], "Supabase: x-upsert, replace an existing object."),
    "cache_control": _field("Cache-Control (profile)", ["string", "null"], "Supabase: the object's cacheControl."),
    **_common(timeout=120),
}


VIMEO_CONN_FIELDS = {
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"], "Bytes per PATCH; default 64 MiB.",
                         default=67108864),
    "max_chunk_size": _field("Largest chunk (bytes)", ["integer", "null"], "A limit of a proxy on the way.",
                             default=1073741824),
    **_common(timeout=120),
}


CLOUDFLARE_STREAM_CONN_FIELDS = {
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"],
                         "Bytes per PATCH: a multiple of 262144 (256 KiB) from 5 MiB to 200 MiB; default 50 MiB.",
                         default=52428800),
    "until": _field("Processing done when", ["string", "null"], "ready (every quality encoded) or playable "
                    "(readyToStream: the first quality plays).", enum=["ready", "playable"], default="ready"),
    **_common(timeout=120),
}


YOUTUBE_CONN_FIELDS = {
    "refresh_token": _field("Refresh token", ["string", "null"], "The channel owner's OAuth 2.0 refresh token (scopes "
                            "youtube.upload, plus youtube.readonly for the sensor); login and password hold the OAuth "
                            "client id and secret.", format="password"),
    "access_token": _field("Access token", ["string", "null"], "Instead of a refresh token: an access token (it "
                           "expires in about an hour).", format="password"),
    "oauth_endpoint": _field("OAuth endpoint", ["string", "null"], "Where refresh tokens are exchanged for access "
                             "tokens (named without 'token': Airflow's UI masks such fields).",
                             default="https://oauth2.googleapis.com/token"),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"], "Bytes per PUT, a multiple of 262144 (256 KiB); "
                         "default 16 MiB.", default=16777216),
    **_common(timeout=120),
}


GCS_CONN_FIELDS = {
    "bucket": _field("Bucket", ["string", "null"], "The bucket objects are written to."),
    "prefix": _field("Object name prefix", ["string", "null"], "Put before the source's file name (e.g. videos/)."),
    "create_only": _field("Never overwrite", ["boolean", "null"], "ifGenerationMatch=0: an existing object is an "
                          "error, not replaced."),
    "keyfile_dict": _field("Service account key (JSON)", ["string", "null"], "The key file's content.",
                           format="password"),
    "key_path": _field("Service account key path", ["string", "null"], "A key file on every worker."),
    "access_token": _field("Access token", ["string", "null"], "Instead of a key: an OAuth 2.0 access token you "
                           "renew yourself.", format="password"),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"], "Bytes per PUT, a multiple of 262144 (256 KiB); "
                         "default 16 MiB.", default=16777216),
    **_common(timeout=120),
}


TIKTOK_CONN_FIELDS: dict[str, Any] = {
    "mode": _field("Mode", ["string", "null"], "direct: TikTok publishes the post once processed (scope "
                   "video.publish). inbox: a draft the creator finishes in the TikTok app (scope video.upload).",
                   enum=["direct", "inbox"], default="direct"),
    "chunk_size": _field("Chunk size (bytes)", ["integer", "null"], "Bytes per PUT, 5242880 to 64000000; "
                         "the remainder goes in the last chunk (TikTok's rule).", default=10000000),
    **_common(timeout=120),
}

TIKTOK_UI: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "API base URL (empty: TikTok)", "password": "User access token"},
    "placeholders": {"host": "https://open.tiktokapis.com"},
}


LINKEDIN_CONN_FIELDS: dict[str, Any] = {
    "owner": _field("Owner URN", ["string", "null"],
                    "urn:li:person:<id> (token with w_member_social) or urn:li:organization:<id> "
                    "(w_organization_social, ADMINISTRATOR or DIRECT_SPONSORED_CONTENT_POSTER)."),
    "linkedin_version": _field("LinkedIn-Version", ["string", "null"],
                               "The API version, YYYYMM (LinkedIn keeps each about a year).",
                               default="202610"),
    "max_chunk_size": _field("Largest part (bytes)", ["integer", "null"],
                             "LinkedIn sets the parts (4 MiB); a larger part is refused. Default 64 MiB.",
                             default=67108864),
    "max_in_flight": _field("Parts at once", ["integer", "null"], "Parts sent in parallel (each its own URL).",
                            default=4),
    **_common(timeout=120),
}

LINKEDIN_UI: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "API base URL (empty for LinkedIn)", "password": "Access token"},
    "placeholders": {"host": "https://api.linkedin.com"},
}


FACEBOOK_CONN_FIELDS: dict[str, Any] = {
    "target": _field("Target", ["string", "null"],
                     "page:<page-id> (the Page's videos, e.g. page:1234567890) or act_<ad-account-id> (the ad "
                     "account's videos)."),
    "graph_version": _field("Graph API version", ["string", "null"], "Default v23.0.", default="v23.0"),
    "app_secret": _field("App secret", ["string", "null"],
                         "Optional: send appsecret_proof (HMAC-SHA256 of the token) with every request.",
                         format="password"),
    "chunk_size": _field("Window buffer (bytes)", ["integer", "null"],
                         "Largest window Graph may ask for (its windows are 50 MiB); default 64 MiB.",
                         default=67108864),
    "max_chunk_size": _field("Largest buffer (bytes)", ["integer", "null"], "Upper bound for chunk_size.",
                             default=1073741824),
    **_common(timeout=120),
}

FACEBOOK_UI: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "Graph video base URL (empty for Facebook)", "password": "Page or user access token"},
    "placeholders": {"host": "https://graph-video.facebook.com"},
}


def _rupload_fields() -> dict[str, Any]:
    """The fields both Reels connections (Instagram, Facebook Pages) have: Graph's version and rupload's chunks."""
    return {
        "graph_version": _field("Graph API version", ["string", "null"], "Graph version in paths, e.g. v23.0.",
                                default="v23.0"),
        "chunk_size": _field("Chunk size (bytes)", ["integer", "null"],
                             "Bytes per rupload request; default 16 MiB.", default=16777216),
        "max_chunk_size": _field("Largest chunk (bytes)", ["integer", "null"], "A limit of a proxy on the way.",
                                 default=1073741824),
        **_common(timeout=120),
    }


INSTAGRAM_CONN_FIELDS: dict[str, Any] = {
    "ig_user_id": _field("Instagram user id", ["string", "null"],
                         "The Instagram professional account's id (the IG User node the media is created on)."),
    **_rupload_fields(),
}

INSTAGRAM_UI: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "Graph API base URL (empty for Meta)", "password": "Access token"},
    "placeholders": {"host": "https://graph.facebook.com"},
}


FACEBOOK_REELS_CONN_FIELDS: dict[str, Any] = {
    "page_id": _field("Page id", ["string", "null"], "The Facebook Page the Reels are posted on."),
    **_rupload_fields(),
}

FACEBOOK_REELS_UI: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "Graph API base URL (empty for Meta)", "password": "Page access token"},
    "placeholders": {"host": "https://graph.facebook.com"},
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-chunkup",
        "name": "chunkup",
        "description": "Chunked uploads of large media files to media platforms' upload APIs: X media "
                       "upload (v2 and v1.1), api.video, Content-Range/upload_id APIs (SelfCommunity, "
                       "django-chunked-upload), tus 1.0.0 servers, Vimeo, Cloudflare Stream, YouTube and Cloud "
                       "Storage, with local emulators for development and tests.",
        "versions": [__version__],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["service"]}],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [
            "airflow_provider_chunkup.hooks.base", "airflow_provider_chunkup.hooks.x",
            "airflow_provider_chunkup.hooks.apivideo", "airflow_provider_chunkup.hooks.content_range",
            "airflow_provider_chunkup.hooks.tus", "airflow_provider_chunkup.hooks.vimeo",
            "airflow_provider_chunkup.hooks.cloudflare_stream", "airflow_provider_chunkup.hooks.youtube",
            "airflow_provider_chunkup.hooks.gcs_destination", "airflow_provider_chunkup.hooks.facebook",
            "airflow_provider_chunkup.hooks.instagram", "airflow_provider_chunkup.hooks.facebook_reels",
            "airflow_provider_chunkup.hooks.tiktok", "airflow_provider_chunkup.hooks.linkedin"]}],
        "operators": [{"integration-name": INTEGRATION,
                       "python-modules": ["airflow_provider_chunkup.operators.upload",
                                          "airflow_provider_chunkup.operators.split",
                                          "airflow_provider_chunkup.operators.listing",
                                          "airflow_provider_chunkup.operators.x_post",
                                          "airflow_provider_chunkup.operators.youtube",
                                          "airflow_provider_chunkup.operators.meta",
                                          "airflow_provider_chunkup.operators.linkedin"]}],
        "sensors": [{"integration-name": INTEGRATION,
                     "python-modules": ["airflow_provider_chunkup.sensors.processing"]}],
        "triggers": [{"integration-name": INTEGRATION,
                      "python-modules": ["airflow_provider_chunkup.triggers.processing"]}],
        "extra-links": ["airflow_provider_chunkup.links.UploadedMediaLink",
                        "airflow_provider_chunkup.links.PublishedPostLink"],
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
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.content_range.ContentRangeUploadHook",
            "connection-type": "chunkup_content_range",
            "hook-name": "chunkup: Content-Range chunk upload",
            "conn-fields": CONTENT_RANGE_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "login"],
                "relabeling": {"host": "Site base URL", "password": "Bearer token"},
                "placeholders": {"host": "https://community.example.com"},
            },
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.tus.TusUploadHook",
            "connection-type": "chunkup_tus",
            "hook-name": "chunkup: tus resumable upload",
            "conn-fields": TUS_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "login", "port"],
                "relabeling": {"host": "tus creation endpoint URL", "password": "Bearer token (optional)"},
                "placeholders": {"host": "https://tus.example.com/files/"},
            },
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.vimeo.VimeoUploadHook",
            "connection-type": "chunkup_vimeo",
            "hook-name": "chunkup: Vimeo",
            "conn-fields": VIMEO_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "login", "port"],
                "relabeling": {"host": "API base URL (empty for Vimeo)", "password": "Access token (upload scope)"},
                "placeholders": {"host": "https://api.vimeo.com"},
            },
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.cloudflare_stream.CloudflareStreamHook",
            "connection-type": "chunkup_cloudflare_stream",
            "hook-name": "chunkup: Cloudflare Stream",
            "conn-fields": CLOUDFLARE_STREAM_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port"],
                "relabeling": {"host": "API base URL (empty for Cloudflare)", "login": "Account id",
                               "password": "API token (Stream Edit)"},
                "placeholders": {"host": "https://api.cloudflare.com/client/v4"},
            },
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.youtube.YouTubeHook",
            "connection-type": "chunkup_youtube",
            "hook-name": "chunkup: YouTube",
            "conn-fields": YOUTUBE_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port"],
                "relabeling": {"host": "API base URL (empty for Google)", "login": "OAuth client id",
                               "password": "OAuth client secret"},
                "placeholders": {"host": "https://www.googleapis.com"},
            },
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.gcs_destination.GcsDestinationHook",
            "connection-type": "chunkup_gcs",
            "hook-name": "chunkup: Cloud Storage (destination)",
            "conn-fields": GCS_CONN_FIELDS,
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "login"],
                "relabeling": {"host": "API base URL (empty for Google)", "password": "Access token (optional)"},
                "placeholders": {"host": "https://storage.googleapis.com"},
            },
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.tiktok.TikTokHook",
            "connection-type": "chunkup_tiktok",
            "hook-name": "chunkup: TikTok",
            "conn-fields": TIKTOK_CONN_FIELDS,
            "ui-field-behaviour": TIKTOK_UI,
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.linkedin.LinkedInHook",
            "connection-type": "chunkup_linkedin",
            "hook-name": "chunkup: LinkedIn",
            "conn-fields": LINKEDIN_CONN_FIELDS,
            "ui-field-behaviour": LINKEDIN_UI,
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.facebook.FacebookVideoHook",
            "connection-type": "chunkup_facebook",
            "hook-name": "chunkup: Facebook video",
            "conn-fields": FACEBOOK_CONN_FIELDS,
            "ui-field-behaviour": FACEBOOK_UI,
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.instagram.InstagramHook",
            "connection-type": "chunkup_instagram",
            "hook-name": "chunkup: Instagram Reels",
            "conn-fields": INSTAGRAM_CONN_FIELDS,
            "ui-field-behaviour": INSTAGRAM_UI,
        }, {
            "hook-class-name": "airflow_provider_chunkup.hooks.facebook_reels.FacebookReelsHook",
            "connection-type": "chunkup_facebook_reels",
            "hook-name": "chunkup: Facebook Reels",
            "conn-fields": FACEBOOK_REELS_CONN_FIELDS,
            "ui-field-behaviour": FACEBOOK_REELS_UI,
        }],
    }
