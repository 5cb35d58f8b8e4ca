"""Post with tweepy against the emulator, as a tweepy user would write it; prints what came back as JSON.

Runs in the peers' venv (``bench/.venv-peers``): tweepy's v1.1 ``API`` uploads an image
(``chunked_upload``) and sets its alt text (``create_media_metadata``) through ``upload_host``; the
v2 ``Client`` (which always calls https://api.twitter.com) reaches the emulator through a requests
transport adapter on ``client.session`` that rewrites that base URL to ``--base-url``. tweepy speaks
https only: the caller sets ``REQUESTS_CA_BUNDLE`` to the emulator's certificate.
Output: ``{"me", "post", "duplicate", "too_long", "timeline", "lookup", "media_id"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from urllib.parse import urlsplit

import requests
import tweepy

# The emulator's credentials: OAuth 1.0a user context, and an OAuth 2.0 user token.
CONSUMER = ("chunkup-consumer-key", "chunkup-consumer-secret")
ACCESS = ("chunkup-access-token", "chunkup-access-token-secret")
X_API = "https://api.twitter.com"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 256


class ToEmulator(requests.adapters.HTTPAdapter):
    """Sends what tweepy addresses to api.twitter.com to the emulator instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]
        request.url = self.base_url + request.url[len(X_API):]
        return super().send(request, **kwargs)


def refusal(call) -> dict[str, object]:
    """What tweepy raised for a call X refuses: the exception's class, status and X's messages."""
    try:
        call()
    except tweepy.HTTPException as exc:
        return {"error": type(exc).__name__, "status": exc.response.status_code, "messages": exc.api_messages}
    return {"error": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True, help="the emulator, https://127.0.0.1:PORT")
    parser.add_argument("--bearer-token", default="chunkup-emulator-token")
    parser.add_argument("--text", default="Posted by tweepy through the chunkup emulator")
    args = parser.parse_args()

    api = tweepy.API(tweepy.OAuth1UserHandler(*CONSUMER, *ACCESS), upload_host=urlsplit(args.base_url).netloc)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "photo.png")
        with open(path, "wb") as f:
            f.write(PNG)
        media = api.chunked_upload(path, file_type="image/png", media_category="tweet_image")
    api.create_media_metadata(media.media_id_string, "A black square")

    client = tweepy.Client(bearer_token=args.bearer_token)
    client.session.mount(X_API, ToEmulator(args.base_url))
    me = client.get_me(user_auth=False).data
    post = client.create_tweet(text=args.text, media_ids=[media.media_id_string], user_auth=False).data
    duplicate = refusal(lambda: client.create_tweet(text=args.text, user_auth=False))
    too_long = refusal(lambda: client.create_tweet(text="x" * 281, user_auth=False))
    timeline = client.get_users_tweets(
        me.id, user_auth=False, max_results=5, tweet_fields=["attachments", "created_at"],
        expansions=["attachments.media_keys"], media_fields=["alt_text"],
    )  # fmt: skip
    lookup = client.get_tweet(post["id"], user_auth=False, tweet_fields=["author_id"])
    print(json.dumps({
        "media_id": media.media_id_string,
        "me": {"id": str(me.id), "username": me.username, "name": me.name},
        "post": post,
        "duplicate": duplicate,
        "too_long": too_long,
        "timeline": {
            "data": [tweet.data for tweet in timeline.data],
            "media": [m.data for m in timeline.includes.get("media", [])],
            "meta": timeline.meta,
        },
        "lookup": lookup.data.data,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
