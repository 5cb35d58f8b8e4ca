"""Reading posts back from the X emulator: ``GET /2/tweets/{id}``, ``/2/users/me``, ``/2/users/{id}/tweets``."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx
import pytest

from airflow_provider_chunkup.emulators.x.publish import USER_FIELDS

from ..support import X_USER_ID, OAuth1, assert_x_invalid, create_post, finalize_v2

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def test_users_me_is_the_one_emulated_user_for_every_credential(emulator, client):
    me = {"data": {"id": X_USER_ID, "name": "chunkup emulator", "username": "chunkup_emulator"}}
    assert client.get("/2/users/me").json() == me
    with httpx.Client(base_url=emulator.url, auth=OAuth1(), timeout=30) as signed:
        response = signed.get("/2/users/me", params={"user.fields": "protected,verified"})
    assert response.status_code == 200
    assert response.json() == {"data": {**me["data"], "protected": False, "verified": False}}
    assert response.headers["x-rate-limit-limit"] == "900"
    assert_x_invalid(client.get("/2/users/me", params={"user.fields": "shoe_size"}),
                     f"The `user.fields` query parameter value [shoe_size] is not one of [{','.join(USER_FIELDS)}]")


def test_a_post_reads_back_with_the_fields_asked_for(client, anon):
    photo = finalize_v2(client, PNG, "image/png")
    alt = client.post("/2/media/metadata", json={"id": photo, "metadata": {"alt_text": {"text": "a cat"}}})
    assert alt.status_code == 200, alt.text
    root = create_post(client, text="root")["data"]["id"]
    post_id = create_post(client, text="with a photo", media={"media_ids": [photo]},
                          reply={"in_reply_to_tweet_id": root})["data"]["id"]  # fmt: skip
    plain = client.get(f"/2/tweets/{post_id}")
    assert plain.json() == {"data": {"id": post_id, "text": "with a photo", "edit_history_tweet_ids": [post_id]}}
    params = {
        "tweet.fields": "attachments,author_id,created_at,reply_settings,referenced_tweets,conversation_id",
        "expansions": "attachments.media_keys,author_id",
    }
    body = client.get(f"/2/tweets/{post_id}", params=params).json()
    data = body["data"]
    assert data["attachments"] == {"media_keys": [f"3_{photo}"]}
    assert data["author_id"] == X_USER_ID and data["reply_settings"] == "everyone"
    assert data["referenced_tweets"] == [{"type": "replied_to", "id": root}] and data["conversation_id"] == root
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", data["created_at"])
    stored_at = anon.get(f"/_emulator/x/posts/{post_id}").json()["created_at"]
    assert data["created_at"] == datetime.fromtimestamp(int(stored_at), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert body["includes"]["media"] == [{"media_key": f"3_{photo}", "type": "photo"}]
    assert body["includes"]["users"][0]["id"] == X_USER_ID
    with_alt = client.get(f"/2/tweets/{post_id}", params={**params, "media.fields": "alt_text"}).json()
    assert with_alt["includes"]["media"] == [{"media_key": f"3_{photo}", "type": "photo", "alt_text": "a cat"}]
    spec_names = client.get(f"/2/tweets/{post_id}", params={"post.fields": "referenced_posts"}).json()["data"]
    assert spec_names == {"id": post_id, "text": "with a photo", "edit_history_post_ids": [post_id],
                          "referenced_posts": [{"type": "replied_to", "id": root}]}  # fmt: skip


def test_lookup_refusals_are_x_s(client):
    missing = "1234567890123456789"
    response = client.get(f"/2/tweets/{missing}")
    assert response.status_code == 200  # X answers a missing post with errors only, not 404
    assert response.json() == {"errors": [{
        "value": missing, "detail": f"Could not find tweet with id: [{missing}].", "title": "Not Found Error",
        "resource_type": "tweet", "parameter": "id", "resource_id": missing,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }]}  # fmt: skip
    assert_x_invalid(client.get("/2/tweets/abc"), "The `id` query parameter value [abc] is not valid", {"id": ["abc"]})
    assert_x_invalid(
        client.get(f"/2/tweets/{missing}", params={"tweep.fields": "x"}),
        "The query parameter [tweep.fields] is not one of "
        "[id,expansions,tweet.fields,post.fields,media.fields,poll.fields,place.fields,user.fields]",
        {"tweep.fields": ["x"]},
    )
    refused = client.get(f"/2/tweets/{missing}", params={"tweet.fields": "id,colour"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"].startswith(
        "The `tweet.fields` query parameter value [colour] is not one of [article,attachments,"
    )
    assert_x_invalid(client.get(f"/2/tweets/{missing}?expansions=author_id&expansions=author_id"),
                     "Duplicate parameters are not allowed: the `expansions` query parameter")  # fmt: skip
    assert client.get(f"/2/tweets/{missing}", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_timeline_is_newest_first_and_pages_cover_every_post_once(client):
    ids = [create_post(client, text=f"post {n}")["data"]["id"] for n in range(23)]
    first = client.get(f"/2/users/{X_USER_ID}/tweets").json()
    assert [p["id"] for p in first["data"]] == ids[::-1][:10]
    assert first["meta"]["result_count"] == 10
    assert first["meta"]["newest_id"] == ids[-1] and first["meta"]["oldest_id"] == ids[-10]
    seen, token = [], None
    while True:
        params = {"max_results": "5", **({"pagination_token": token} if token else {})}
        page = client.get(f"/2/users/{X_USER_ID}/tweets", params=params).json()
        seen += [p["id"] for p in page["data"]]
        token = page["meta"].get("next_token")
        if token is None:
            break
    assert seen == ids[::-1]
    since = client.get(f"/2/users/{X_USER_ID}/tweets", params={"since_id": ids[19]}).json()
    assert [p["id"] for p in since["data"]] == ids[:19:-1]
    until = client.get(f"/2/users/{X_USER_ID}/tweets", params={"until_id": ids[3], "max_results": 100}).json()
    assert [p["id"] for p in until["data"]] == ids[2::-1]


def test_start_time_finds_the_posts_made_since(client, clock):
    create_post(client, text="before")
    clock.advance(60)
    cutoff = datetime.fromtimestamp(clock.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = create_post(client, text="after")["data"]["id"]
    response = client.get(f"/2/users/{X_USER_ID}/tweets", params={"start_time": cutoff, "tweet.fields": "created_at"})
    assert [p["id"] for p in response.json()["data"]] == [after]
    assert_x_invalid(client.get(f"/2/users/{X_USER_ID}/tweets", params={"start_time": "yesterday"}),
                     "The `start_time` query parameter value [yesterday] is not valid")  # fmt: skip


def test_an_empty_timeline_has_no_data_key(client):
    assert client.get(f"/2/users/{X_USER_ID}/tweets").json() == {"meta": {"result_count": 0}}
    create_post(client, text="root")
    none_since = client.get(f"/2/users/{X_USER_ID}/tweets", params={"since_id": str(10**18 * 9)}).json()
    assert none_since == {"meta": {"result_count": 0}}


def test_replies_can_be_excluded_and_other_users_are_not_found(client):
    root = create_post(client, text="root")["data"]["id"]
    create_post(client, text="reply", reply={"in_reply_to_tweet_id": root})
    only_root = client.get(f"/2/users/{X_USER_ID}/tweets", params={"exclude": "replies"}).json()
    assert [p["id"] for p in only_root["data"]] == [root]
    other = client.get("/2/users/783214/tweets").json()
    assert other["errors"][0]["detail"] == "Could not find user with id: [783214]."
    assert "data" not in other


@pytest.mark.parametrize("value", ["4", "101", "ten"])
def test_max_results_is_5_to_100(client, value):
    assert_x_invalid(client.get(f"/2/users/{X_USER_ID}/tweets", params={"max_results": value}),
                     f"The `max_results` query parameter value [{value}] is not between 5 and 100")  # fmt: skip


def test_a_bad_pagination_token_or_id_is_refused(client):
    assert_x_invalid(client.get(f"/2/users/{X_USER_ID}/tweets", params={"pagination_token": "!!"}),
                     "The `pagination_token` query parameter value [!!] is not valid")  # fmt: skip
    assert_x_invalid(client.get("/2/users/me1/tweets"), "The `id` query parameter value [me1] is not valid")


def test_reads_count_against_the_read_bucket(client, emulator):
    emulator.config.x.read_rate_limit = 1
    assert client.get("/2/users/me").status_code == 200
    limited = client.get(f"/2/users/{X_USER_ID}/tweets")
    assert limited.status_code == 429 and limited.headers["x-rate-limit-limit"] == "1"
    assert client.post("/2/tweets", json={"text": "posts are another bucket"}).status_code == 201
