"""The posts.parsed stream door: entries become posts once, acknowledged only after their job is in the ledger."""

import json

import pytest
from django.core.management import call_command

from jobs.models import JobRun
from jobs.queues import get_redis
from memory.posts.consumer import handle_entry
from memory.posts.intake import InvalidPost
from memory.posts.models import Post
from memory.posts.stream import StreamConsumer, publish
from tests.memory.factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def tag_runs():
    return JobRun.objects.filter(task_path="memory.posts.tasks.tag_post")


def pending(redis):
    return redis.xpending("posts.parsed", "posts")["pending"]


def test_entries_become_posts_and_are_acknowledged_after_their_tagging_is_queued():
    workspace = make_workspace("acme")
    redis = get_redis()
    publish(redis, {"workspace": "acme", "external_id": "s1", "text": "Acme Corp ships https://acme.example/x",
                    "channel": "feed"})
    publish(redis, {"workspace": str(workspace.pk), "external_id": "s2", "text": "Globex news",
                    "links": json.dumps(["https://globex.example/"])})
    consumer = StreamConsumer(redis, handler=handle_entry, consumer="c1")
    assert consumer.run_once(block_ms=0) == 2
    assert pending(redis) == 0
    posts = {p.external_id: p for p in Post.objects.all()}
    assert posts["s1"].source == "stream" and posts["s1"].links == ["https://acme.example/x"]
    assert posts["s2"].links == ["https://globex.example/"] and tag_runs().count() == 2


def test_an_entry_may_carry_image_urls_as_a_json_list():
    make_workspace("acme")
    assert handle_entry("1-0", {"workspace": "acme", "external_id": "s3",
                                "images": json.dumps(["https://cdn.example/a.png"])}) == "created"
    assert Post.objects.get(external_id="s3").images == [{"url": "https://cdn.example/a.png"}]
    with pytest.raises(InvalidPost):
        handle_entry("2-0", {"workspace": "acme", "external_id": "s4", "images": "https://cdn.example/a.png"})


def test_a_redelivered_entry_creates_nothing_twice_and_a_bad_one_stays_pending(settings):
    make_workspace("acme")
    redis = get_redis()
    fields = {"workspace": "acme", "external_id": "s1", "text": "Acme Corp ships"}
    publish(redis, fields)
    publish(redis, fields)  # a producer that retried
    publish(redis, {"workspace": "nowhere", "external_id": "s2", "text": "lost"})
    consumer = StreamConsumer(redis, handler=handle_entry, consumer="c1", claim_idle_ms=0, max_attempts=2)
    assert consumer.run_once(block_ms=0) == 2
    assert Post.objects.count() == 1 and tag_runs().count() == 1 and pending(redis) == 1
    consumer.run_once(block_ms=0)  # second delivery fails again
    consumer.run_once(block_ms=0)  # third: past max_attempts, dead-lettered
    assert pending(redis) == 0 and redis.xlen("posts.parsed.dead") == 1


def test_the_command_handles_what_is_there(capsys):
    make_workspace("acme")
    publish(get_redis(), {"workspace": "acme", "external_id": "s9", "text": "From the command"})
    call_command("memory", "posts_consumer", "--once", "--consumer", "cli")
    assert "handled 1 entries" in capsys.readouterr().out
    assert Post.objects.get().external_id == "s9"
