"""The posts.parsed Redis Stream: producers publish, a consumer group hands each entry to a handler.

Delivery is at least once. An entry is acknowledged only after the handler returned (the handler
durably enqueues the post's job, and parse_post is idempotent, so a second delivery creates
nothing). A handler that raises leaves the entry pending; pending entries idle for claim_idle_ms,
whether their consumer died or their handler failed, are claimed (XAUTOCLAIM) and handled again,
and an entry whose handler has failed max_attempts times is moved to `<stream>.dead` and acked.
"""

import logging
import os
import socket

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from memory.conf import memory_settings

logger = logging.getLogger(__name__)

DEAD_SUFFIX = ".dead"
DEAD_FIELDS = ("dead_entry_id", "dead_group", "dead_deliveries")  # what bury() adds to an entry


def publish(redis, fields, *, stream=None, maxlen=None):
    """Append one entry (a flat dict of text or number fields) to the stream; return its id."""
    if not fields:
        raise ValueError("a stream entry needs at least one field")
    entry_id = redis.xadd(stream or memory_settings.POSTS_STREAM_NAME, fields,
                          maxlen=maxlen or memory_settings.POSTS_STREAM_MAXLEN, approximate=True)
    return text(entry_id)


def text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def entry_key(entry_id):
    """A stream id as a comparable (milliseconds, sequence) pair."""
    millis, _, sequence = entry_id.partition("-")
    return int(millis), int(sequence or 0)


def decode_fields(fields):
    return {text(key): text(value) for key, value in (fields or {}).items()}


class StreamConsumer:
    """One member of the stream's consumer group; `run_once()` is one step, `run()` the loop."""

    def __init__(self, redis, *, handler, stream=None, group=None, consumer=None, claim_idle_ms=None,
                 batch=None, max_attempts=None, block_ms=None):
        self.redis = redis
        self.handler = handler
        self.stream = stream or memory_settings.POSTS_STREAM_NAME
        self.group = group or memory_settings.POSTS_STREAM_GROUP
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.claim_idle_ms = claim_idle_ms if claim_idle_ms is not None else memory_settings.POSTS_STREAM_CLAIM_IDLE_MS
        self.batch = batch or memory_settings.POSTS_STREAM_BATCH
        self.max_attempts = max_attempts or memory_settings.POSTS_STREAM_MAX_ATTEMPTS
        self.block_ms = block_ms if block_ms is not None else memory_settings.POSTS_STREAM_BLOCK_MS
        self.dead_stream = self.stream + DEAD_SUFFIX
        self.claim_cursor = "0-0"
        self.group_ready = False

    def ensure_group(self):
        """Create the group (and the stream) if missing; it starts at the stream's first entry."""
        try:
            # "0", not "$": entries published before any consumer existed are still handled.
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.group_ready = True

    def run_once(self, block_ms=None):
        """Claim idle pending entries, then read new ones, handle them; return how many were handled."""
        if not self.group_ready:
            self.ensure_group()
        try:
            return self.claim_and_handle() + self.read_and_handle(block_ms)
        except ResponseError as exc:
            # The stream or group vanished (deleted, or a Redis that lost its data): make it again.
            if "NOGROUP" not in str(exc):
                raise
            self.group_ready = False
            return 0

    def run(self, stop_event, *, max_backoff_seconds=5.0):
        """Step until stop_event is set, waiting out Redis outages with a growing pause."""
        backoff = 0.1
        while not stop_event.is_set():
            try:
                # Never a zero block here: an idle loop would spin on Redis.
                self.run_once(block_ms=self.block_ms or memory_settings.POSTS_STREAM_BLOCK_MS)
                backoff = 0.1
            except (RedisConnectionError, RedisTimeoutError) as exc:
                logger.warning("posts stream %s: Redis unavailable (%s); retrying in %.1fs",
                               self.stream, exc, backoff)
                stop_event.wait(backoff)
                backoff = min(backoff * 2, max_backoff_seconds)

    # --- the steps -----------------------------------------------------------------------------

    def claim_and_handle(self):
        """Take over entries pending longer than claim_idle_ms (a dead consumer's, or failed ones)."""
        start = self.claim_cursor
        next_cursor, entries = self.redis.xautoclaim(
            self.stream, self.group, self.consumer, self.claim_idle_ms,
            start_id=start, count=self.batch)[:2]
        # The cursor walks the pending list across calls; "0-0" means it went round once.
        self.claim_cursor = text(next_cursor)
        live = [(text(entry_id), fields) for entry_id, fields in entries if entry_id is not None]
        if len(live) < len(entries):
            self.forget_deleted(start, self.claim_cursor, {entry_id for entry_id, _ in live})
        if not live:
            return 0
        deliveries = self.deliveries(live[0][0], live[-1][0])
        fresh = []
        for entry_id, fields in live:
            # XAUTOCLAIM counted this delivery: handler failures so far = deliveries - 1.
            if deliveries.get(text(entry_id), 1) > self.max_attempts:
                self.bury(entry_id, fields, deliveries[text(entry_id)])
            else:
                fresh.append((entry_id, fields))
        return self.handle(fresh)

    def read_and_handle(self, block_ms=None):
        response = self.redis.xreadgroup(self.group, self.consumer, {self.stream: ">"},
                                         count=self.batch, block=block_ms or None)
        entries = [entry for _, stream_entries in response or () for entry in stream_entries]
        return self.handle(entries)

    def forget_deleted(self, start, end, live_ids):
        """Acknowledge claimed entries that were deleted or trimmed from the stream while pending.

        Redis 6.2 returns them from XAUTOCLAIM as bare nils, without their ids, and keeps them
        pending forever (7.0 drops them itself): find our pending ids in the claimed span that are
        no longer in the stream.
        """
        rows = self.redis.xpending_range(self.stream, self.group, min=start, max="+",
                                         count=self.batch * 2, consumername=self.consumer)
        last = None if end == "0-0" else entry_key(end)
        gone = []
        for row in rows:
            entry_id = text(row["message_id"])
            if entry_id in live_ids or (last is not None and entry_key(entry_id) >= last):
                continue
            if not self.redis.xrange(self.stream, min=entry_id, max=entry_id):
                gone.append(entry_id)
        if gone:
            self.redis.xack(self.stream, self.group, *gone)

    def deliveries(self, first_id, last_id):
        """Each of our pending entries' delivery count, in the id range of a claimed batch."""
        rows = self.redis.xpending_range(self.stream, self.group, min=first_id, max=last_id,
                                         count=self.batch, consumername=self.consumer)
        return {text(row["message_id"]): row["times_delivered"] for row in rows}

    def handle(self, entries):
        """Call the handler on each entry; acknowledge those it returned from, in one XACK."""
        done = []
        for entry_id, fields in entries:
            try:
                self.handler(text(entry_id), decode_fields(fields))
            except (RedisConnectionError, RedisTimeoutError):
                # Redis itself is down (the handler enqueues through it): no use trying the rest of
                # the batch, and no reason to count it against the entry. run() waits it out.
                raise
            except Exception:  # noqa: BLE001 - any failure leaves the entry pending for a retry
                logger.exception("posts stream %s: handling %s failed; it stays pending",
                                 self.stream, text(entry_id))
                continue
            done.append(entry_id)
        if done:
            self.redis.xack(self.stream, self.group, *done)
        return len(done)

    def bury(self, entry_id, fields, deliveries):
        """Move a poison entry to the dead-letter stream and acknowledge it, in one transaction."""
        dead = {**decode_fields(fields), "dead_entry_id": text(entry_id), "dead_group": self.group,
                "dead_deliveries": deliveries}
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.dead_stream, dead)
        pipe.xack(self.stream, self.group, entry_id)
        pipe.execute()
        logger.error("posts stream %s: %s failed %d times; moved to %s",
                     self.stream, text(entry_id), deliveries - 1, self.dead_stream)


def requeue_dead(redis, *, stream=None, count=100):
    """Move up to `count` dead-lettered entries back to the stream (after a fix); return how many."""
    stream = stream or memory_settings.POSTS_STREAM_NAME
    dead_stream = stream + DEAD_SUFFIX
    moved = 0
    for entry_id, fields in redis.xrange(dead_stream, count=count):
        fields = decode_fields(fields)
        original = {key: value for key, value in fields.items() if key not in DEAD_FIELDS} or fields
        pipe = redis.pipeline(transaction=True)
        pipe.xadd(stream, original)
        pipe.xdel(dead_stream, entry_id)
        pipe.execute()
        moved += 1
    return moved
