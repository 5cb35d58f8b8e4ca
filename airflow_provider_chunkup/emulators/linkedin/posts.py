"""LinkedIn's Posts API (``POST /rest/posts``): the request's checks, the stored post, its little text read back.

Sources (checked for this emulator):

- Posts API, learn.microsoft.com/linkedin/marketing/community-management/shares/posts-api: every request carries
  ``LinkedIn-Version`` (YYYYMM) and ``X-Restli-Protocol-Version: 2.0.0``; a post has ``author`` (person or
  organization URN), ``commentary``, ``visibility``, ``distribution`` (``feedDistribution``, ``targetEntities``,
  ``thirdPartyDistributionChannels``), ``content.media`` (``id``, ``title``), ``lifecycleState`` and
  ``isReshareDisabledByAuthor``. A created post answers 201 and is named by the ``x-restli-id`` header.
- little text format, learn.microsoft.com/linkedin/marketing/community-management/shares/little-text-format:
  ``commentary`` is "little" text; reserved characters must be backslash-escaped to be plain text, even where
  they start no element. The reserved set, ``\\ | { } @ [ ] ( ) < > # * _ ~``, and LinkedIn cutting the text at
  the first unescaped one: github.com/apoorvdarshan/crossposter/releases/tag/v1.1.5 and
  socket.dev/npm/package/@linkedctl/core. 3000 characters at most: docs.postsyncer.com/platforms/linkedin.
- Find Posts by Authors, the same Posts API page (section "Find Posts by Authors"):
  ``GET /rest/posts?author={URL-encoded URN}&q=author&count=10&sortBy=LAST_MODIFIED`` (``sortBy`` is
  ``LAST_MODIFIED`` or ``CREATED``; ``X-RestLi-Method: FINDER`` may be sent; reading needs
  ``r_member_social`` or ``r_organization_social``) answers ``{"elements": [posts], "paging": {"start", "count",
  "links"}}``, newest first; each post as created plus ``id`` (the share URN), ``createdAt``,
  ``lastModifiedAt`` and ``publishedAt`` (epoch ms). Clients in the wild send it this way, such as the
  ``listPosts`` tools that call ``/rest/posts?author=...&q=author&count=...&start=...&sortBy=LAST_MODIFIED``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .videos import LinkedInError

#: LinkedIn's commentary limit, in characters.
MAX_COMMENTARY = 3000
VISIBILITIES = ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER")
FEED_DISTRIBUTIONS = ("MAIN_FEED", "NONE")
RESERVED = frozenset("\\|{}@[]()<>#*_~")
AUTHOR = re.compile(r"urn:li:(person|organization):[^\s:]+")
MENTION = re.compile(r"@\[([^\]\\]*)\]\((urn:li:(?:person|organization):[^)\s]+)\)")
HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|[#\uff03]\|([^}|\\]+)\}")
SORTS = ("LAST_MODIFIED", "CREATED")
#: The finder's default and largest page (``count``).
DEFAULT_COUNT = 10
MAX_COUNT = 100


@dataclass
class Post:
    """A created post, as the emulator keeps it."""

    urn: str
    token: str
    author: str
    commentary: str
    visibility: str
    feed_distribution: str
    media: str | None
    title: str | None
    lifecycle_state: str
    reshare_disabled: bool
    created_at: float

    @property
    def id(self) -> str:
        return self.urn.rsplit(":", 1)[-1]

    def inspect(self) -> dict[str, Any]:
        text, cut = render_little(self.commentary)
        return {
            "id": self.id, "urn": self.urn, "author": self.author, "commentary": self.commentary,
            "text": text, "truncated": cut, "visibility": self.visibility,
            "feedDistribution": self.feed_distribution, "media": self.media, "title": self.title,
            "lifecycleState": self.lifecycle_state, "isReshareDisabledByAuthor": self.reshare_disabled,
            "created_at": self.created_at,
        }  # fmt: skip

    def api(self) -> dict[str, Any]:
        """The post as LinkedIn's Posts API reads it back (the finder's ``elements``)."""
        at = math.floor(self.created_at * 1000)
        media: dict[str, Any] = {"id": self.media, **({"title": self.title} if self.title else {})}
        return {
            "id": self.urn, "author": self.author, "commentary": self.commentary, "visibility": self.visibility,
            "distribution": {"feedDistribution": self.feed_distribution, "targetEntities": [],
                             "thirdPartyDistributionChannels": []},
            **({"content": {"media": media}} if self.media else {}),
            "lifecycleState": self.lifecycle_state, "lifecycleStateInfo": {"isEditedByAuthor": False},
            "isReshareDisabledByAuthor": self.reshare_disabled,
            "createdAt": at, "lastModifiedAt": at, "publishedAt": at,
        }  # fmt: skip


def _invalid(path: str, message: str) -> LinkedInError:
    """A Rest.li schema refusal: 422 naming the field."""
    return LinkedInError(422, f"ERROR :: {path} :: {message}")


def _required(body: dict[str, Any], name: str, kind: type) -> Any:
    if name not in body:
        raise _invalid(f"/{name}", "field is required but not found and has no default value")
    value = body[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _invalid(f"/{name}", f"{value!r} is not a {kind.__name__}")
    return value


def post_request(body: Any, owners: list[str]) -> dict[str, Any]:
    """The checked fields of a create-post body (without the media checks, which need the videos)."""
    if not isinstance(body, dict):
        raise LinkedInError.bad("The body must be a JSON object (a post).")
    author = _required(body, "author", str)
    commentary = _required(body, "commentary", str)
    visibility = _required(body, "visibility", str)
    distribution = _required(body, "distribution", dict)
    lifecycle = _required(body, "lifecycleState", str)
    if not AUTHOR.fullmatch(author):
        raise _invalid("/author", f"{author!r} is not a urn:li:person or urn:li:organization URN")
    if visibility not in VISIBILITIES:
        raise _invalid("/visibility", f"{visibility!r} is not one of {', '.join(VISIBILITIES)}")
    if lifecycle != "PUBLISHED":
        raise _invalid("/lifecycleState", f"{lifecycle!r}: a post is created PUBLISHED")
    feed = distribution.get("feedDistribution")
    if feed not in FEED_DISTRIBUTIONS:
        raise _invalid("/distribution/feedDistribution", f"{feed!r} is not one of {', '.join(FEED_DISTRIBUTIONS)}")
    for name in ("targetEntities", "thirdPartyDistributionChannels"):
        if not isinstance(distribution.get(name, []), list):
            raise _invalid(f"/distribution/{name}", "must be an array")
    if len(commentary) > MAX_COMMENTARY:
        raise _invalid("/commentary", f"length {len(commentary)} exceeds the maximum of {MAX_COMMENTARY}")
    reshare = body.get("isReshareDisabledByAuthor", False)
    if not isinstance(reshare, bool):
        raise _invalid("/isReshareDisabledByAuthor", f"{reshare!r} is not a boolean")
    media, title = None, None
    if "content" in body:
        content = body["content"]
        found = content.get("media") if isinstance(content, dict) else None
        if not isinstance(found, dict) or not isinstance(found.get("id"), str):
            raise _invalid("/content/media/id", "field is required but not found and has no default value")
        media, title = found["id"], found.get("title")
        if title is not None and not isinstance(title, str):
            raise _invalid("/content/media/title", f"{title!r} is not a string")
    if author not in owners:
        raise LinkedInError(403, f"Not enough permissions to access: partnerApiPostsExternal.CREATE for author "
                                 f"{author}.")  # fmt: skip
    return {"author": author, "commentary": commentary, "visibility": visibility, "feed_distribution": feed,
            "media": media, "title": title, "lifecycle_state": lifecycle, "reshare_disabled": reshare,
            "created_at": time.time()}  # fmt: skip


def _whole(params: Mapping[str, str], name: str, default: int, most: int | None = None) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or (most is not None and int(raw) > most):
        bound = f" from 0 to {most}" if most is not None else ""
        raise LinkedInError.bad(f"Invalid value {raw!r} for query parameter {name}: a whole number{bound}.")
    return int(raw)


def find_by_author(posts: Iterable[Post], params: Mapping[str, str], raw_query: str,
                   owners: list[str]) -> dict[str, Any]:
    """The ``q=author`` finder's answer: the author's posts, newest first, one ``start``/``count`` page."""
    if params.get("q") != "author":
        raise LinkedInError.bad(f"Unknown finder q={params.get('q')!r}: the posts finder is q=author.")
    author = params.get("author")
    if not author or not AUTHOR.fullmatch(author):
        raise LinkedInError.bad(f"Invalid value {author!r} for query parameter author: a URL-encoded "
                                "urn:li:person or urn:li:organization URN.")  # fmt: skip
    if any(p.startswith("author=") and ":" in p for p in raw_query.split("&")):
        raise LinkedInError(400, "The author URN must be URL-encoded (urn%3Ali%3A...) in the query (Rest.li 2.0).",
                            "ILLEGAL_ARGUMENT")  # fmt: skip
    sort = params.get("sortBy", "LAST_MODIFIED")
    if sort not in SORTS:
        raise LinkedInError.bad(f"Invalid value {sort!r} for query parameter sortBy: {' or '.join(SORTS)}.")
    count = _whole(params, "count", DEFAULT_COUNT, MAX_COUNT)
    start = _whole(params, "start", 0)
    if author not in owners:
        raise LinkedInError(403, f"Not enough permissions to access: partnerApiPostsExternal.FINDER-author for "
                                 f"author {author}.")  # fmt: skip
    # Posts are never edited here: LAST_MODIFIED and CREATED give the same order (newest first, the URN breaking ties).
    mine = sorted((p for p in posts if p.author == author), key=lambda p: (p.created_at, int(p.id)), reverse=True)
    return {"elements": [p.api() for p in mine[start:start + count]],
            "paging": {"start": start, "count": count, "links": []}}


def render_little(commentary: str) -> tuple[str, bool]:
    """The text LinkedIn shows for ``commentary``, and whether it was cut at an unescaped reserved character.

    ``\\x`` is ``x``; ``@[Name](urn)`` shows ``Name``; ``{hashtag|#|tag}`` and ``#tag`` show ``#tag``; any other
    unescaped reserved character ends the text there (LinkedIn's silent truncation).
    """
    out: list[str] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\":
            if i + 1 == len(commentary):
                return "".join(out), True
            out.append(commentary[i + 1])
            i += 2
            continue
        if char not in RESERVED:
            out.append(char)
            i += 1
            continue
        if char == "@" and (mention := MENTION.match(commentary, i)):
            out.append(mention.group(1))
            i = mention.end()
        elif char == "{" and (tag := HASHTAG_TEMPLATE.match(commentary, i)):
            out.append("#" + tag.group(1))
            i = tag.end()
        elif char == "#" and i + 1 < len(commentary) and commentary[i + 1].isalnum():
            out.append(char)
            i += 1
        else:
            return "".join(out), True
    return "".join(out), False
