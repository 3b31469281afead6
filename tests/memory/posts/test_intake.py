"""The doors into the posts pipeline: POST /api/posts and the Telegram webhook's channel posts."""

import json

import pytest
from django.db import transaction
from django.test import Client

from jobs.models import JobRun
from memory.chats.models import Message
from memory.models import ApiToken, Membership
from memory.posts.models import Post
from tests.memory.chats.factories import make_bot
from tests.memory.chats.shapes import bot_update
from tests.memory.factories import make_workspace
from tests.users import make_outsider

pytestmark = pytest.mark.django_db(transaction=True)


def tag_runs():
    return JobRun.objects.filter(task_path="memory.posts.tasks.tag_post")


def api(body, secret):
    return Client().post("/api/posts", json.dumps(body), content_type="application/json",
                         headers={"Authorization": f"Bearer {secret}"})


@pytest.fixture
def workspace(member):
    return make_workspace("acme", member=member)


@pytest.fixture
def secret(member, workspace):
    return ApiToken.issue(member, "producer", workspace=workspace)


def test_a_batch_is_stored_and_each_post_is_queued_for_tagging_after_commit(workspace, secret):
    posts = [{"external_id": str(n), "text": f"Release {n} of Acme Corp https://acme.example/r{n}.",
              "channel": "acme-news"} for n in range(3)]
    response = api({"posts": posts}, secret)
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 3
    stored = Post.objects.order_by("external_id")
    assert [p.links for p in stored] == [[f"https://acme.example/r{n}"] for n in range(3)]
    assert all(p.stage == "parsed" and p.events[0]["event"] == "posts.parsed" for p in stored)
    assert sorted(run.args[0] for run in tag_runs()) == sorted(p.pk for p in stored)
    assert all(p.expires_at is not None for p in stored)


def test_a_redelivered_batch_creates_nothing_twice_and_an_edit_is_tagged_again(workspace, secret):
    body = {"posts": [{"external_id": "7", "text": "first text"}, {"external_id": "8", "text": "other"}]}
    api(body, secret)
    again = api(body, secret)
    assert again.status_code == 200 and again.json()["duplicate"] == 2
    assert Post.objects.count() == 2 and tag_runs().count() == 2
    edited = api({"posts": [{"external_id": "7", "text": "second text"}]}, secret)
    assert edited.json()["updated"] == 1
    assert Post.objects.get(external_id="7").text == "second text" and tag_runs().count() == 3


def test_a_batch_is_stored_in_a_constant_number_of_queries_with_parse_posts_outcomes(workspace,
                                                                                    django_assert_max_num_queries):
    from memory.posts.intake import parse_batch, parse_post, validated

    with transaction.atomic():
        parse_post(workspace, validated({"external_id": "old", "text": "stored before"}, "api"))
        parse_post(workspace, validated({"external_id": "edited", "text": "stored before"}, "api"))
    items = [{"external_id": str(n), "text": f"Release {n} of Acme Corp"} for n in range(200)]
    items += [{"external_id": "old", "text": "stored before"}, {"external_id": "edited", "text": "edited now"},
              {"external_id": "5", "text": "Release 5 of Acme Corp, amended"}, {"external_id": "5",
                                                                                "text": "Release 5 of Acme Corp, amended"}]
    # The 200 new posts in one SELECT, one INSERT and one COPY of their runs; each edit adds its own few.
    with django_assert_max_num_queries(30):
        results = parse_batch(workspace, items, "api")
    assert [outcome for outcome, _ in results] == ["created"] * 200 + ["duplicate", "updated", "updated", "duplicate"]
    assert Post.objects.get(external_id="5").text == "Release 5 of Acme Corp, amended"
    assert Post.objects.get(external_id="5").revision == 1 and Post.objects.count() == 202
    tagged = [run.args[0] for run in tag_runs()]
    five, edited = Post.objects.get(external_id="5").pk, Post.objects.get(external_id="edited").pk
    # Two before the batch, 200 new, the edit of "edited" and the edit of "5" within the batch.
    assert len(tagged) == 204 and tagged.count(five) == 2 and tagged.count(edited) == 2
    assert results[-1][1].pk == results[5][1].pk and all(post.pk for _, post in results)


def test_one_bad_item_rejects_the_batch_with_reasons_and_stores_nothing(workspace, secret):
    body = {"posts": [{"external_id": "1", "text": "fine"}, {"external_id": "", "text": "x"},
                      {"external_id": "3", "text": "y", "links": ["ftp://nope"]}, "not an object"]}
    response = api(body, secret)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"posts[1]", "posts[2]", "posts[3]"}
    assert "external_id" in errors["posts[1]"][0] and "links" in errors["posts[2]"][0]
    assert Post.objects.count() == 0 and tag_runs().count() == 0


def test_a_batch_over_a_thousand_is_refused(workspace, secret):
    response = api({"posts": [{"external_id": str(n), "text": "t"} for n in range(1001)]}, secret)
    assert response.status_code == 400 and "1000" in response.json()["errors"]["posts"][0]
    assert Post.objects.count() == 0


def test_the_api_needs_a_token_and_a_writer(workspace, member):
    assert api({"posts": [{"external_id": "1", "text": "t"}]}, "wrong").status_code == 401
    viewer = ApiToken.issue(member, "reader", workspace=workspace, role=Membership.Role.VIEWER)
    assert api({"posts": [{"external_id": "1", "text": "t"}]}, viewer).status_code == 403
    outsider_token = ApiToken.issue(make_outsider("eve"), "eve")
    response = api({"workspace": workspace.pk, "posts": [{"external_id": "1", "text": "t"}]}, outsider_token)
    assert response.status_code == 400 and Post.objects.count() == 0


def webhook(bot, update):
    return Client().post(f"/webhooks/telegram/{bot.path_secret}", data=json.dumps(update),
                         content_type="application/json",
                         headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret})


def test_a_channel_post_from_the_webhook_enters_the_pipeline_once(db):
    bot = make_bot()
    update = bot_update(1, 7, "Release 2.4 is out: https://acme.example/2.4", kind="channel_post",
                        chat_id=-1009876543210, title="Announcements")
    assert webhook(bot, update).status_code == 200
    assert webhook(bot, update).status_code == 200  # Telegram redelivers
    post = Post.objects.get()
    assert (post.source, post.external_id, post.channel) == ("telegram", "-1009876543210:7", "Announcements")
    assert post.links == ["https://acme.example/2.4"] and post.workspace == bot.workspace
    assert tag_runs().count() == 1 and Message.objects.count() == 1  # chats still stores the message


def test_an_edited_channel_post_updates_the_post_and_a_group_message_is_not_a_post(db):
    bot = make_bot()
    webhook(bot, bot_update(1, 7, "first", kind="channel_post", chat_id=-1009876543210, title="News"))
    webhook(bot, bot_update(2, 7, "second", kind="edited_channel_post", chat_id=-1009876543210, title="News"))
    webhook(bot, bot_update(3, 8, "a group message"))
    assert list(Post.objects.values_list("text", flat=True)) == ["second"]
    assert tag_runs().count() == 2
