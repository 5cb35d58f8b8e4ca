"""X routes for what follows an upload: posts, the user and its timeline, alt text and subtitles.

``POST /2/tweets`` (201 ``{"data": {"id", "text", "edit_history_tweet_ids", "edit_history_post_ids"}}``:
real X answers ``edit_history_tweet_ids``, spec v2.167 names it ``edit_history_post_ids``, both are
sent), ``GET /2/tweets/{id}``, ``GET /2/users/me``, ``GET /2/users/{id}/tweets``,
``POST /2/media/metadata``, ``POST``/``DELETE /2/media/subtitles`` and v1.1's
``POST /1.1/media/metadata/create.json`` (200, empty body). Rules and state: ``posts.py``.

Lookups answer as X does (tweepy/tweepy#1623, the twittercommunity.com thread "Questions about error
response structure"): a post or user that does not exist is HTTP 200 with only ``errors``
(``Not Found Error``); an unknown query parameter is 400 ``The query parameter [x] is not one of
[...]``, an unknown field ``The `tweet.fields` query parameter value [x] is not one of [...]``
(redouane59/twittered#118), a repeated one ``Duplicate parameters are not allowed: the `id` query
parameter`` and a bad id ``The `id` query parameter value [x] is not valid``
(abraham/twitteroauth#1028). Default post fields are ``id``, ``text`` and
``edit_history_tweet_ids`` (tweepy's recorded timeline); ``post.fields`` (spec v2.167's name) is
taken like ``tweet.fields``, with the spec's field names (``edit_history_post_ids``,
``referenced_posts``). Media objects carry ``media_key`` and ``type`` unless ``media.fields`` asks
for more (``alt_text``, ``width``, ``height``), as X does.

Our choices: the subtitles answer is ``{"data": {"id", "media_category", "associated_subtitles":
{"subtitles": [{"id", "language_code", "display_name"}]}}}`` (every track the video now has); DELETE
answers ``{"data": {"deleted": true|false}}`` (false: no track in that language); pagination tokens
are opaque; ``start_time``/``end_time`` compare with a post's exact creation time.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..core.context import EmulatorContext
from ..core.forms import SMALL_FIELD_LIMIT, BodyError, media_type_of, read_capped_body
from .auth import MEDIA_WRITE, READ, TWEET_WRITE
from .endpoint import POSTS_BUCKET, READ_BUCKET, UPLOAD_BUCKET, V2, V11, XRoutes, json_response, x_endpoint
from .media import ID_PATTERN, XMediaError
from .posts import (
    JSON_ONLY,
    MEDIA_TYPES,
    NOT_A_JSON_OBJECT,
    XPost,
    XPostStore,
    invalid_parameter,
    not_found_problem,
)
from .schema import CREATE_METADATA, CREATE_SUBTITLES, DELETE_SUBTITLES, validate

V11_METADATA_PATH = "/1.1/media/metadata/create.json"
TWEET_FIELDS = (
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations", "conversation_id",
    "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id",
    "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets", "reply_settings", "scopes",
    "source", "text", "withheld",
)  # fmt: skip
#: Spec v2.167's ``post.fields`` enum; answered with these names.
POST_FIELDS = (
    "article", "article_title", "attachments", "card_uri", "community_id", "context_annotations", "conversation_id",
    "created_at", "display_text_range", "edit_controls", "entities", "geo", "id", "lang", "matched_media_notes",
    "media_metadata", "non_public_metrics", "note_post", "note_request_suggestions", "organic_metrics",
    "paid_partnership", "possibly_sensitive", "promoted_metrics", "public_metrics", "reply_settings", "scopes",
    "source", "suggested_source_links", "suggested_source_links_with_counts", "text", "withheld",
    "author_id", "edit_history_post_ids", "in_reply_to_user_id", "referenced_posts",
)  # fmt: skip
EXPANSIONS = (
    "article.cover_media", "article.media_entities", "attachments.media_keys", "attachments.media_source_tweet",
    "attachments.poll_ids", "author_id", "edit_history_tweet_ids", "edit_history_post_ids",
    "entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "referenced_tweets.id",
    "referenced_tweets.id.author_id", "referenced_posts", "username",
)  # fmt: skip
MEDIA_FIELDS = (
    "alt_text", "duration_ms", "height", "media_key", "non_public_metrics", "organic_metrics", "preview_image_url",
    "promoted_metrics", "public_metrics", "type", "url", "variants", "width",
)  # fmt: skip
USER_FIELDS = (
    "affiliation", "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
    "is_identity_verified", "location", "most_recent_tweet_id", "name", "parody", "pinned_tweet_id",
    "profile_banner_url", "profile_image_url", "protected", "public_metrics", "receives_your_dm",
    "subscribes_to_you", "subscription", "subscription_type", "url", "username", "verified",
    "verified_followers_count", "verified_type", "withheld",
)  # fmt: skip
PLACE_FIELDS = ("contained_within", "country", "country_code", "full_name", "geo", "id", "name", "place_type")
POLL_FIELDS = ("duration_minutes", "end_datetime", "id", "options", "voting_status")
LOOKUP_FIELDS = {
    "expansions": EXPANSIONS, "tweet.fields": TWEET_FIELDS, "post.fields": POST_FIELDS,
    "media.fields": MEDIA_FIELDS, "poll.fields": POLL_FIELDS, "place.fields": PLACE_FIELDS,
    "user.fields": USER_FIELDS,
}  # fmt: skip
TIMELINE_PARAMS = (
    "max_results", "pagination_token", "start_time", "end_time", "since_id", "until_id", "exclude",
)  # fmt: skip
EXCLUDE = ("replies", "retweets")


def iso_time(epoch: float) -> str:
    """X's ``created_at``: UTC, whole seconds, ``.000Z``."""
    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Query:
    """A request's query parameters checked as X checks them (unknown, repeated, enum values)."""

    def __init__(self, request: Request, allowed: dict[str, tuple[str, ...] | None]) -> None:
        pairs = request.query_params.multi_items()
        names = [name for name, _ in pairs]
        for name in names:
            if names.count(name) > 1:
                raise invalid_parameter(
                    f"Duplicate parameters are not allowed: the `{name}` query parameter",
                    {name: [v for n, v in pairs if n == name]},
                )
        self.values = dict(pairs)
        for name, value in self.values.items():
            if name not in allowed:
                raise invalid_parameter(
                    f"The query parameter [{name}] is not one of [{','.join(allowed)}]", {name: [value]}
                )
            choices = allowed[name]
            if choices is not None:
                for item in value.split(","):
                    if item not in choices:
                        raise invalid_parameter(
                            f"The `{name}` query parameter value [{item}] is not one of [{','.join(choices)}]",
                            {name: [value]},
                        )

    def listed(self, name: str) -> list[str]:
        value = self.values.get(name)
        return value.split(",") if value else []

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def not_valid(name: str, value: str) -> XMediaError:
    return invalid_parameter(f"The `{name}` query parameter value [{value}] is not valid", {name: [value]})


def parse_time(name: str, value: str) -> float:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise not_valid(name, value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def encode_token(post_id: str) -> str:
    return base64.b32hexencode(post_id.encode()).decode().rstrip("=").lower()


def decode_token(token: str) -> str:
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        post_id = base64.b32hexdecode(padded).decode()
    except (binascii.Error, ValueError):
        raise not_valid("pagination_token", token) from None
    if not ID_PATTERN.match(post_id):
        raise not_valid("pagination_token", token)
    return post_id


class XPublish(XRoutes):
    """Posts, the user, alt text and subtitles, on the post store (and through it the media store)."""

    def __init__(self, context: EmulatorContext, store: XPostStore) -> None:
        self.context = context
        self.store = store

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/2/tweets", self.create_post, methods=["POST"]),
            Route("/2/tweets/{id}", self.get_post, methods=["GET"]),
            Route("/2/users/me", self.users_me, methods=["GET"]),
            Route("/2/users/{id}/tweets", self.user_posts, methods=["GET"]),
            Route("/2/media/metadata", self.create_metadata, methods=["POST"]),
            Route("/2/media/subtitles", self.create_subtitles, methods=["POST"]),
            Route("/2/media/subtitles", self.delete_subtitles, methods=["DELETE"]),
            Route(V11_METADATA_PATH, self.v11_create_metadata, methods=["POST"]),
        ]

    # -- bodies ---------------------------------------------------------------------------------

    @staticmethod
    async def _json_body(request: Request) -> Any:
        """A JSON body as X's post endpoints take it; their own 400s for another type or bad JSON."""
        if media_type_of(request) != "application/json":
            raise invalid_parameter(JSON_ONLY)
        try:
            return json.loads(await read_capped_body(request, SMALL_FIELD_LIMIT))
        except (BodyError, UnicodeDecodeError, json.JSONDecodeError):
            raise invalid_parameter(NOT_A_JSON_OBJECT) from None

    @staticmethod
    async def _media_body(request: Request, schema: dict[str, Any]) -> dict[str, Any]:
        """A JSON body for the media endpoints, checked against ``schema``; media-style problems."""
        if media_type_of(request) != "application/json":
            raise XMediaError("Unsupported Content-Type: send application/json.", parameter="Content-Type")
        try:
            body = json.loads(await read_capped_body(request, SMALL_FIELD_LIMIT))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise XMediaError(f"The request body is not valid JSON: {exc}") from None
        violations = validate(body, schema)
        if violations:
            first = violations[0]
            raise XMediaError(first.message, parameter=first.path, value=json.dumps(first.value))
        return body

    # -- posts ----------------------------------------------------------------------------------

    @x_endpoint(V2, POSTS_BUCKET, TWEET_WRITE)
    async def create_post(self, request: Request) -> Response:
        post = self.store.create(await self._json_body(request), request.state.auth_kind)
        data = {
            "id": post.id,
            "text": post.text,
            "edit_history_tweet_ids": [post.id],
            "edit_history_post_ids": [post.id],
        }
        response = json_response({"data": data}, 201)
        response.headers["location"] = f"{str(request.base_url).rstrip('/')}/2/tweets/{post.id}"
        return response

    @x_endpoint(V2, READ_BUCKET, READ)
    async def get_post(self, request: Request) -> Response:
        post_id = request.path_params["id"]
        query = Query(request, {"id": None, **LOOKUP_FIELDS})
        if not ID_PATTERN.match(post_id):
            raise not_valid("id", post_id)
        post = self.store.posts.get(post_id)
        if post is None:
            return json_response({"errors": [not_found_problem("tweet", post_id)]})
        body: dict[str, Any] = {"data": self._render(post, query)}
        includes = self._includes([post], query)
        if includes:
            body["includes"] = includes
        return json_response(body)

    @x_endpoint(V2, READ_BUCKET, READ)
    async def users_me(self, request: Request) -> Response:
        query = Query(request, {"expansions": ("pinned_tweet_id",), "user.fields": USER_FIELDS,
                                "tweet.fields": TWEET_FIELDS})  # fmt: skip
        return json_response({"data": self._user(query.listed("user.fields"))})

    @x_endpoint(V2, READ_BUCKET, READ)
    async def user_posts(self, request: Request) -> Response:
        user_id = request.path_params["id"]
        allowed: dict[str, tuple[str, ...] | None] = {"id": None, **dict.fromkeys(TIMELINE_PARAMS), **LOOKUP_FIELDS}
        allowed["exclude"] = EXCLUDE
        query = Query(request, allowed)
        if not ID_PATTERN.match(user_id):
            raise not_valid("id", user_id)
        page_size = self._max_results(query.get("max_results"))
        posts = self._timeline(query)
        if user_id != self.config.user_id:
            return json_response({"errors": [not_found_problem("user", user_id)]})
        page, rest = posts[:page_size], posts[page_size:]
        meta: dict[str, Any] = {"result_count": len(page)}
        body: dict[str, Any] = {}
        if page:
            body["data"] = [self._render(post, query) for post in page]
            includes = self._includes(page, query)
            if includes:
                body["includes"] = includes
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
            if rest:
                meta["next_token"] = encode_token(page[-1].id)
        body["meta"] = meta
        return json_response(body)

    @staticmethod
    def _max_results(raw: str | None) -> int:
        if raw is None:
            return 10
        if not raw.isdigit() or not 5 <= int(raw) <= 100:
            raise invalid_parameter(
                f"The `max_results` query parameter value [{raw}] is not between 5 and 100", {"max_results": [raw]}
            )
        return int(raw)

    def _timeline(self, query: Query) -> list[XPost]:
        """The user's posts newest first, filtered by the query (before paging)."""
        posts = [p for p in self.store.newest_first() if p.author_id == self.config.user_id]
        for name in ("since_id", "until_id"):
            value = query.get(name)
            if value is not None and not ID_PATTERN.match(value):
                raise not_valid(name, value)
        since, until = query.get("since_id"), query.get("until_id")
        token = query.get("pagination_token")
        before = decode_token(token) if token is not None else None
        start = parse_time("start_time", query.get("start_time") or "") if query.get("start_time") else None
        end = parse_time("end_time", query.get("end_time") or "") if query.get("end_time") else None
        excluded = set(query.listed("exclude"))
        return [
            p
            for p in posts
            if (since is None or int(p.id) > int(since))
            and (until is None or int(p.id) < int(until))
            and (before is None or int(p.id) < int(before))
            and (start is None or p.created_at >= start)
            and (end is None or p.created_at <= end)
            and not ("replies" in excluded and p.reply_to)
        ]

    def _render(self, post: XPost, query: Query) -> dict[str, Any]:
        """The post object X answers: default fields plus those ``tweet.fields``/``post.fields`` ask for."""
        spec_names = "post.fields" in query.values
        wanted = set(query.listed("post.fields" if spec_names else "tweet.fields"))
        history = "edit_history_post_ids" if spec_names else "edit_history_tweet_ids"
        referenced = "referenced_posts" if spec_names else "referenced_tweets"
        data: dict[str, Any] = {"id": post.id, "text": post.text, history: [post.id]}
        if "attachments" in wanted and post.media_keys:
            data["attachments"] = {"media_keys": list(post.media_keys)}
        if "author_id" in wanted:
            data["author_id"] = post.author_id
        if "created_at" in wanted:
            data["created_at"] = iso_time(post.created_at)
        if "conversation_id" in wanted:
            data["conversation_id"] = post.conversation_id
        if "reply_settings" in wanted:
            data["reply_settings"] = post.reply_settings or "everyone"
        if "in_reply_to_user_id" in wanted and post.reply_to:
            data["in_reply_to_user_id"] = self.store.posts[post.reply_to].author_id
        if referenced in wanted:
            refs = [{"type": "replied_to", "id": post.reply_to}] if post.reply_to else []
            refs += [{"type": "quoted", "id": post.quote_tweet_id}] if post.quote_tweet_id else []
            if refs:
                data[referenced] = refs
        return data

    def _includes(self, posts: list[XPost], query: Query) -> dict[str, Any]:
        expansions = set(query.listed("expansions"))
        includes: dict[str, Any] = {}
        if "attachments.media_keys" in expansions:
            media_fields = set(query.listed("media.fields"))
            objects = [self._media_object(key, media_fields) for post in posts for key in post.media_keys]
            if objects:
                includes["media"] = objects
        if "author_id" in expansions and posts:
            includes["users"] = [self._user(query.listed("user.fields"))]
        return includes

    def _media_object(self, media_key: str, fields: set[str]) -> dict[str, Any]:
        media = self.store.media.media.get(media_key.split("_", 1)[1])
        if media is None:  # forgotten since: X would still know it
            return {"media_key": media_key}
        found: dict[str, Any] = {"media_key": media_key, "type": MEDIA_TYPES.get(media.category or "", "photo")}
        alt = (media.metadata.get("alt_text") or {}).get("text")
        if "alt_text" in fields and alt is not None:
            found["alt_text"] = alt
        if media.image_dimensions and fields & {"width", "height"}:
            found["width"], found["height"] = media.image_dimensions
        return found

    def _user(self, fields: list[str]) -> dict[str, Any]:
        config = self.config
        user: dict[str, Any] = {"id": config.user_id, "name": config.user_name, "username": config.user_username}
        if "protected" in fields:
            user["protected"] = False
        if "verified" in fields:
            user["verified"] = False
        if "most_recent_tweet_id" in fields:
            newest = self.store.newest_first()
            if newest:
                user["most_recent_tweet_id"] = newest[0].id
        return user

    # -- alt text and subtitles -----------------------------------------------------------------

    @x_endpoint(V2, UPLOAD_BUCKET, MEDIA_WRITE)
    async def create_metadata(self, request: Request) -> Response:
        body = await self._media_body(request, CREATE_METADATA)
        media = self.store.set_metadata(body["id"], body.get("metadata") or {})
        return json_response({"data": {"id": media.id, "associated_metadata": media.metadata}})

    @x_endpoint(V2, UPLOAD_BUCKET, MEDIA_WRITE)
    async def create_subtitles(self, request: Request) -> Response:
        body = await self._media_body(request, CREATE_SUBTITLES)
        video = self.store.add_subtitles(body["id"], body["media_category"], body["subtitles"])
        tracks = [
            {"id": t["media_id"], "language_code": t["language_code"], "display_name": t["display_name"]}
            for t in video.subtitles.values()
        ]
        data = {"id": video.id, "media_category": body["media_category"], "associated_subtitles": {"subtitles": tracks}}
        return json_response({"data": data})

    @x_endpoint(V2, UPLOAD_BUCKET, MEDIA_WRITE)
    async def delete_subtitles(self, request: Request) -> Response:
        body = await self._media_body(request, DELETE_SUBTITLES)
        deleted = self.store.remove_subtitles(body["id"], body["media_category"], body["language_code"])
        return json_response({"data": {"deleted": deleted}})

    @x_endpoint(V11, UPLOAD_BUCKET, MEDIA_WRITE)
    async def v11_create_metadata(self, request: Request) -> Response:
        """v1.1 alt text (``{"media_id", "alt_text": {"text"}}``, as tweepy sends it): 200, empty body.

        X's docs take ``application/json`` or ``text/plain`` bodies and answer "HTTP 2xx".
        """
        if media_type_of(request) not in ("application/json", "text/plain"):
            raise XMediaError("Send a JSON body (Content-Type application/json).", v11_code=44)
        try:
            body = json.loads(await read_capped_body(request, SMALL_FIELD_LIMIT))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise XMediaError("The request body is not valid JSON.", v11_code=44) from None
        if not isinstance(body, dict):
            raise XMediaError("The request body must be a JSON object.", v11_code=44)
        media_id = body.get("media_id")
        if media_id is None:
            raise XMediaError.missing("media_id")
        media_id = str(media_id)  # a number is accepted too (media_id, not media_id_string)
        alt_text = body.get("alt_text")
        if not isinstance(alt_text, dict) or not isinstance(alt_text.get("text"), str):
            raise XMediaError.invalid("alt_text", alt_text, 'must be {"text": "..."}')
        media = self.store.describable(media_id)
        self.store.set_metadata(media_id, {**media.metadata, "alt_text": {"text": alt_text["text"]}})
        return Response(status_code=200)
