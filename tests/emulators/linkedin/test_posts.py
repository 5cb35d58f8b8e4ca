"""LinkedIn's Posts API on the emulator: a post of an AVAILABLE video, x-restli-id, LinkedIn's refusals."""

from __future__ import annotations

import os
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from .helpers import CONTROL, HEADERS, OWNER, assert_error, finalize, new_video, upload_parts

SIZE = 2500
ORG = "urn:li:organization:2414183"


def available(api: httpx.Client, owner: str = OWNER) -> str:
    """A finalized video of ``owner``, AVAILABLE at once (``processing_secs`` is 0)."""
    value = new_video(api, SIZE, owner=owner)
    assert finalize(api, value, upload_parts(value, os.urandom(SIZE))).status_code == 200
    return value["video"]


def post_body(video: str | None, **override: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "author": OWNER, "commentary": r"Launch \(v2\) \#1", "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "content": {"media": {"title": "Launch", "id": video}}, "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False, **override}
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def posting(linkedin, emulator) -> httpx.Client:
    emulator.config.linkedin.processing_secs = 0
    return linkedin


def test_a_post_answers_201_empty_with_its_urn_in_x_restli_id(posting, anon):
    video = available(posting)
    response = posting.post("/rest/posts", json=post_body(video))
    assert response.status_code == 201 and response.content == b""
    urn = response.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:") and urn.rsplit(":", 1)[-1].isdigit()
    (listed,) = anon.get(f"{CONTROL}/posts").json()
    assert listed == anon.get(f"{CONTROL}/posts/{urn}").json() == anon.get(f"{CONTROL}/posts/{listed['id']}").json()
    assert (listed["urn"], listed["author"], listed["media"], listed["title"]) == (urn, OWNER, video, "Launch")
    assert listed["text"] == "Launch (v2) #1" and not listed["truncated"]
    stats = anon.get("/_emulator/stats").json()
    assert (stats["linkedin_posts"], stats["linkedin_posts_created"]) == (1, 1)
    assert anon.post("/_emulator/reset").status_code in (200, 204)
    assert anon.get(f"{CONTROL}/posts").json() == []


def test_unescaped_reserved_characters_cut_the_text_as_linkedin_does(posting, anon):
    posting.post("/rest/posts", json=post_body(available(posting), commentary="Launch (v2) is out")).raise_for_status()
    (post,) = anon.get(f"{CONTROL}/posts").json()
    assert post["text"] == "Launch " and post["truncated"]


def test_mentions_and_hashtags_are_little_text_elements(posting, anon):
    text = "Hi @[Acme](urn:li:organization:2414183) {hashtag|#|video} #launch"
    posting.post("/rest/posts", json=post_body(available(posting), commentary=text)).raise_for_status()
    assert anon.get(f"{CONTROL}/posts").json()[0]["text"] == "Hi Acme #video #launch"


def test_the_headers_are_checked_as_on_every_route(emulator, posting):
    body = post_body(available(posting))
    for drop, status in (("Authorization", 401), ("LinkedIn-Version", 400), ("X-Restli-Protocol-Version", 400)):
        headers = {k: v for k, v in HEADERS.items() if k != drop}
        assert httpx.post(f"{emulator.url}/rest/posts", json=body, headers=headers).status_code == status


def test_a_video_still_processing_is_refused(posting, emulator):
    emulator.config.linkedin.processing_secs = 3600
    video = available(posting)
    assert_error(posting.post("/rest/posts", json=post_body(video)), 400, f"Media {video} is PROCESSING, not AVAILABLE")


def test_a_video_not_finalized_or_unknown_is_refused(posting):
    pending = new_video(posting, SIZE)["video"]
    assert_error(posting.post("/rest/posts", json=post_body(pending)), 400, "WAITING_UPLOAD, not AVAILABLE")
    assert_error(posting.post("/rest/posts", json=post_body("urn:li:video:nope")), 400, "does not exist")
    assert_error(posting.post("/rest/posts", json=post_body("urn:li:image:1")), 422, "/content/media/id")


def test_the_video_must_be_the_authors_and_the_tokens(posting, emulator):
    video = available(posting, owner=ORG)
    assert_error(posting.post("/rest/posts", json=post_body(video)), 400, f"owned by {ORG}")
    emulator.config.linkedin.tokens = ["linkedin-token", "other-token"]
    other = {**HEADERS, "Authorization": "Bearer other-token"}
    response = httpx.post(f"{emulator.url}/rest/posts", json=post_body(video, author=ORG), headers=other)
    assert_error(response, 403, "partnerApiVideos")


def test_an_author_the_token_cannot_post_as_is_forbidden(posting):
    body = post_body(available(posting), author="urn:li:person:someone-else")
    assert_error(posting.post("/rest/posts", json=body), 403, "partnerApiPostsExternal.CREATE")


@pytest.mark.parametrize(("override", "path"), [
    ({"author": None}, "/author"),
    ({"commentary": None}, "/commentary"),
    ({"visibility": None}, "/visibility"),
    ({"distribution": None}, "/distribution"),
    ({"lifecycleState": None}, "/lifecycleState"),
    ({"author": "urn:li:company:1"}, "/author"),
    ({"visibility": "EVERYONE"}, "/visibility"),
    ({"lifecycleState": "DRAFT"}, "/lifecycleState"),
    ({"distribution": {"feedDistribution": "EVERYWHERE"}}, "/distribution/feedDistribution"),
    ({"commentary": "a" * 3001}, "/commentary"),
    ({"isReshareDisabledByAuthor": "no"}, "/isReshareDisabledByAuthor"),
    ({"content": {"media": {}}}, "/content/media/id"),
])
def test_a_malformed_post_is_refused_with_422_naming_the_field(posting, anon, override, path):
    video = available(posting)
    assert_error(posting.post("/rest/posts", json=post_body(video, **override)), 422, f"ERROR :: {path} ::")
    assert anon.get(f"{CONTROL}/posts").json() == []


def test_exactly_3000_characters_are_taken(posting):
    response = posting.post("/rest/posts", json=post_body(available(posting), commentary="a" * 3000))
    assert response.status_code == 201, response.text


def test_an_unknown_post_is_404(anon):
    response = anon.get(f"{CONTROL}/posts/urn:li:share:1")
    assert response.status_code == 404 and "no such post" in response.text


# -- the "Find Posts by Authors" finder ------------------------------------------------------------


def find(api: httpx.Client, author: str = OWNER, **params: Any) -> httpx.Response:
    """``GET /rest/posts?author=<URN, percent-encoded>&q=author&...`` as LinkedIn's docs write it."""
    query = "&".join([f"author={quote(author, safe='')}", "q=author", *(f"{k}={v}" for k, v in params.items())])
    return api.get(f"/rest/posts?{query}", headers={"X-RestLi-Method": "FINDER"})


def test_the_finder_answers_the_authors_posts_newest_first_as_linkedin_reads_them(posting):
    video = available(posting)
    urns = [posting.post("/rest/posts", json=post_body(video, commentary=f"Post {i}")).headers["x-restli-id"]
            for i in range(3)]
    org_video = available(posting, owner=ORG)
    posting.post("/rest/posts", json=post_body(org_video, author=ORG)).raise_for_status()
    response = find(posting, count=10, start=0, sortBy="LAST_MODIFIED")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["paging"] == {"start": 0, "count": 10, "links": []}
    assert [p["id"] for p in answer["elements"]] == urns[::-1]  # the organization's post is not the member's
    newest = answer["elements"][0]
    assert newest["author"] == OWNER and newest["commentary"] == "Post 2" and newest["visibility"] == "PUBLIC"
    assert newest["content"] == {"media": {"id": video, "title": "Launch"}}
    assert newest["lifecycleState"] == "PUBLISHED" and newest["distribution"]["feedDistribution"] == "MAIN_FEED"
    assert isinstance(newest["createdAt"], int) and newest["lastModifiedAt"] == newest["createdAt"]
    assert abs(newest["createdAt"] / 1000 - time.time()) < 60
    (org_post,) = find(posting, ORG, sortBy="CREATED").json()["elements"]
    assert org_post["author"] == ORG and org_post["content"]["media"]["id"] == org_video


def test_the_finder_pages_with_start_and_count(posting):
    video = available(posting)
    urns = [posting.post("/rest/posts", json=post_body(video)).headers["x-restli-id"] for _ in range(5)][::-1]
    pages = [find(posting, count=2, start=start, sortBy="CREATED").json() for start in (0, 2, 4, 6)]
    assert [[p["id"] for p in page["elements"]] for page in pages] == [urns[0:2], urns[2:4], urns[4:], []]
    assert pages[1]["paging"] == {"start": 2, "count": 2, "links": []}
    assert len(find(posting).json()["elements"]) == 5  # count 10 by default, no X-RestLi-Method needed either
    assert posting.get(f"/rest/posts?author={quote(OWNER, safe='')}&q=author").status_code == 200


@pytest.mark.parametrize(("query", "status", "message"), [
    (f"author={quote(OWNER, safe='')}&q=authors", 400, "q=author"),
    ("q=author", 400, "query parameter author"),
    (f"author={OWNER}&q=author", 400, "URL-encoded"),
    (f"author={quote(OWNER, safe='')}&q=author&sortBy=NEWEST", 400, "LAST_MODIFIED or CREATED"),
    (f"author={quote(OWNER, safe='')}&q=author&count=101", 400, "count"),
    (f"author={quote(OWNER, safe='')}&q=author&start=-1", 400, "start"),
    (f"author={quote('urn:li:person:someone-else', safe='')}&q=author", 403, "partnerApiPostsExternal.FINDER"),
])
def test_the_finder_refuses_what_linkedin_does(posting, query, status, message):
    code = "ILLEGAL_ARGUMENT" if message == "URL-encoded" else None
    assert_error(posting.get(f"/rest/posts?{query}"), status, message, code)


def test_the_finder_checks_the_headers_and_the_restli_method(emulator, posting):
    url = f"{emulator.url}/rest/posts?author={quote(OWNER, safe='')}&q=author"
    for drop, status in (("Authorization", 401), ("LinkedIn-Version", 400), ("X-Restli-Protocol-Version", 400)):
        assert httpx.get(url, headers={k: v for k, v in HEADERS.items() if k != drop}).status_code == status
    assert_error(httpx.get(url, headers={**HEADERS, "X-RestLi-Method": "GET_ALL"}), 400, "FINDER")
