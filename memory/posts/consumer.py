"""`manage.py memory posts_consumer`: read the posts.parsed stream into parse_post.

An entry is a flat dict: `workspace` (slug or id), `external_id`, `text`, and optionally `channel`,
`links` and `images` (JSON lists of URLs) and `published_at` (ISO 8601). The handler returns only after parse_post's
transaction committed, and with it the tag_post run in the job ledger (the outbox), so the consumer
acknowledges an entry only once its job is durable. A redelivered entry is a duplicate and queues nothing.
"""

import json
import signal
import threading

from django.db import transaction

from jobs.queues import get_redis
from memory.models import Workspace

from .intake import InvalidPost, parse_post, validated
from .models import Post
from .stream import StreamConsumer


def workspace_of(value):
    value = (value or "").strip()
    workspaces = Workspace.objects.filter(pk=int(value)) if value.isdigit() else Workspace.objects.filter(slug=value)
    workspace = workspaces.first()
    if workspace is None:
        raise InvalidPost(f"no workspace {value!r}")
    return workspace


def handle_entry(entry_id, fields):
    """Store one stream entry as a post; return the outcome. Raises InvalidPost for a malformed entry
    (it stays pending and, after MEMORY_POSTS_STREAM_MAX_ATTEMPTS deliveries, goes to the dead-letter stream)."""
    data = dict(fields)
    workspace = workspace_of(data.pop("workspace", ""))
    for name in ("links", "images"):
        if name in data:
            try:
                data[name] = json.loads(data[name])
            except ValueError:
                raise InvalidPost(f"entry {entry_id}: {name} must be a JSON list") from None
    item = validated(data, Post.Source.STREAM)
    with transaction.atomic():
        outcome, _ = parse_post(workspace, item)
    return outcome


def add_posts_consumer(subparsers):
    parser = subparsers.add_parser(
        "posts_consumer", help="Read the posts.parsed Redis stream (consumer group) into the posts pipeline.")
    parser.add_argument("--consumer", default=None, help="This consumer's name in the group (default: host-pid).")
    parser.add_argument("--once", action="store_true", help="Handle what is there now (one step) and exit.")
    parser.set_defaults(handler=run_consumer)


def run_consumer(command, options):
    consumer = StreamConsumer(get_redis(), handler=handle_entry, consumer=options["consumer"])
    if options["once"]:
        handled = consumer.run_once(block_ms=0)
        command.stdout.write(f"handled {handled} entries")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    command.stdout.write(f"posts consumer {consumer.consumer} reading {consumer.stream} as {consumer.group}")
    consumer.run(stop)
