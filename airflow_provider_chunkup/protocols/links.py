"""Where a person can look at an uploaded media, from the upload's result alone (no request).

Used for the "Uploaded media" link of the operators. Only ``http(s)`` URLs come out: a link taken
from a platform's answer is never turned into ``javascript:`` or anything else a browser would run.
This module imports nothing from Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_chunkup.protocols.session import UploadResult

EMULATOR_PREFIX = "/_emulator/"
X_PRODUCTION_HOSTS = frozenset({"api.x.com", "upload.x.com", "api.twitter.com", "upload.twitter.com"})


def media_url(result: UploadResult | Mapping[str, Any], api_base_url: str | None = None) -> str | None:
    """The page of the uploaded media, or ``None`` where the platform has none.

    - api.video: the video's player (``details.assets.player``); on the chunkup emulator, which
      serves no player page, its inspection page of the video.
    - X: on the emulator (any host but X's own), its inspection page ``/_emulator/x/media/<id>``.
      X itself has no page for a media that is not in a post yet (its status endpoint needs OAuth),
      so there is no link: the media id is in the task's XCom, ready to attach to a post.
    - Content-Range APIs: the media's URL, when the site returns one (``details.url``).

    :param api_base_url: the base URL the connection sent requests to (tells the emulator from X).
    """
    record = UploadResult.from_dict(result)
    media_id = quote(str(record.media_id), safe="")
    if record.api == "apivideo":
        assets = record.details.get("assets")
        player = _http_url(assets.get("player") if isinstance(assets, Mapping) else None)
        if player and EMULATOR_PREFIX in urlsplit(player).path:
            origin = player[: player.index(EMULATOR_PREFIX)]
            return f"{origin}{EMULATOR_PREFIX}apivideo/videos/{media_id}"
        return player
    if record.api == "x":
        base = _http_url(api_base_url)
        if base is None or urlsplit(base).hostname in X_PRODUCTION_HOSTS:
            return None
        return f"{base.rstrip('/')}{EMULATOR_PREFIX}x/media/{media_id}"
    return _http_url(record.details.get("url"))


def post_url(post_id: str, api_base_url: str | None = None) -> str | None:
    """The page of an X post: on X, ``https://x.com/i/web/status/<id>`` (no user name needed); on the
    emulator, its inspection page ``/_emulator/x/posts/<id>``."""
    post = quote(str(post_id), safe="")
    base = _http_url(api_base_url)
    if base is None or urlsplit(base).hostname in X_PRODUCTION_HOSTS:
        return f"https://x.com/i/web/status/{post}"
    return f"{base.rstrip('/')}{EMULATOR_PREFIX}x/posts/{post}"


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None
