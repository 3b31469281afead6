"""The posts.parsed stream's consumer group, on the session's real Redis."""

import threading
import time

import pytest

from jobs.queues import get_redis
from memory.posts.stream import StreamConsumer, publish, requeue_dead

STREAM = "posts.parsed"


@pytest.fixture
def redis():
    return get_redis()


def pending(redis, stream=STREAM, group="posts"):
    return redis.xpending(stream, group)["pending"]


def consumer(redis, handler, name="one", **options):
    options.setdefault("claim_idle_ms", 60_000)
    return StreamConsumer(redis, handler=handler, consumer=name, block_ms=0, **options)


def until(condition, timeout=10.0, step=0.01):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


def test_publish_returns_the_entry_id_and_trims_the_stream(redis):
    first = publish(redis, {"source": "telegram", "external_id": "1"})
    assert redis.xrange(STREAM)[0][0].decode() == first
    for n in range(2000):
        publish(redis, {"n": n}, maxlen=100)
    # Approximate trimming drops whole nodes: about maxlen entries are left, never all 2,001.
    assert 100 <= redis.xlen(STREAM) < 400


def test_publish_refuses_an_empty_entry(redis):
    with pytest.raises(ValueError):
        publish(redis, {})


def test_an_entry_is_acknowledged_only_after_its_handler_returns(redis):
    ids = [publish(redis, {"external_id": str(n), "text": f"post {n}"}) for n in range(3)]
    seen = []

    def handler(entry_id, fields):
        # While the handler runs, its entry is still pending: a crash here loses nothing.
        seen.append((entry_id, fields, pending(redis)))

    assert consumer(redis, handler).run_once() == 3
    assert [entry_id for entry_id, _, _ in seen] == ids
    assert seen[0][1] == {"external_id": "0", "text": "post 0"}
    assert all(count >= 1 for _, _, count in seen)
    assert pending(redis) == 0


def test_entries_published_before_the_group_existed_are_handled(redis):
    publish(redis, {"external_id": "early"})
    seen = []
    consumer(redis, lambda entry_id, fields: seen.append(fields["external_id"])).run_once()
    assert seen == ["early"]


def test_a_failing_handler_leaves_the_entry_pending_and_is_not_called_again_before_the_idle_time(redis):
    entry = publish(redis, {"external_id": "1"})
    calls = []

    def handler(entry_id, fields):
        calls.append(entry_id)
        raise RuntimeError("the database is down")

    worker = consumer(redis, handler)
    assert worker.run_once() == 0
    assert worker.run_once() == 0
    assert calls == [entry]
    row, = redis.xpending_range(STREAM, "posts", min="-", max="+", count=10)
    assert (row["message_id"].decode(), row["consumer"].decode(), row["times_delivered"]) == (entry, "one", 1)


def test_a_failed_entry_is_retried_after_the_idle_time_and_then_acknowledged(redis):
    entry = publish(redis, {"external_id": "1"})
    calls = []

    def handler(entry_id, fields):
        calls.append(entry_id)
        if len(calls) == 1:
            raise RuntimeError("once")

    worker = consumer(redis, handler, claim_idle_ms=50)
    worker.run_once()
    time.sleep(0.08)
    assert worker.run_once() == 1
    assert calls == [entry, entry]
    assert pending(redis) == 0


def test_a_dead_consumer_s_entries_are_claimed_by_another_after_the_idle_time(redis):
    ids = [publish(redis, {"external_id": str(n)}) for n in range(4)]

    def dies(entry_id, fields):
        raise KeyboardInterrupt  # not an Exception: the process goes down with its entries read

    with pytest.raises(KeyboardInterrupt):
        consumer(redis, dies, name="dead", batch=10).run_once()
    assert pending(redis) == 4

    seen = []
    survivor = consumer(redis, lambda entry_id, fields: seen.append(entry_id), name="alive", claim_idle_ms=1000)
    assert survivor.run_once() == 0  # not idle long enough yet: the dead one might still be working
    time.sleep(1.05)
    assert survivor.run_once() == 4
    assert seen == ids
    assert pending(redis) == 0


def test_a_poison_entry_goes_to_the_dead_letter_stream_after_max_attempts(redis):
    good = publish(redis, {"external_id": "good"})
    poison = publish(redis, {"external_id": "poison", "text": "💥"})
    calls = []

    def handler(entry_id, fields):
        calls.append(entry_id)
        if fields["external_id"] == "poison":
            raise ValueError("cannot parse")

    worker = consumer(redis, handler, claim_idle_ms=1, max_attempts=3)
    worker.run_once()
    until(lambda: (worker.run_once(), redis.xlen(STREAM + ".dead"))[1] == 1, step=0.005)
    assert calls.count(poison) == 3 and calls.count(good) == 1
    (dead_id, dead), = redis.xrange(STREAM + ".dead")
    assert {k.decode(): v.decode() for k, v in dead.items()} == {
        "external_id": "poison", "text": "💥", "dead_entry_id": poison, "dead_group": "posts",
        "dead_deliveries": "4",
    }
    assert pending(redis) == 0
    worker.run_once()
    assert calls.count(poison) == 3


def test_an_entry_deleted_while_pending_is_forgotten(redis):
    kept = publish(redis, {"external_id": "kept"})
    deleted = publish(redis, {"external_id": "deleted"})
    calls = []

    def handler(entry_id, fields):
        calls.append(entry_id)
        if len(calls) <= 2:
            raise RuntimeError("not yet")

    worker = consumer(redis, handler, claim_idle_ms=1)
    worker.run_once()
    redis.xdel(STREAM, deleted)
    time.sleep(0.01)
    worker.run_once()
    assert calls == [kept, deleted, kept]
    assert pending(redis) == 0


def test_a_redis_restart_mid_run_loses_no_entry(redis, services):
    before = [publish(redis, {"external_id": f"before-{n}"}) for n in range(3)]
    handled, redis_down, in_handler = [], threading.Event(), threading.Event()

    def handler(entry_id, fields):
        if fields["external_id"] == "interrupted" and not redis_down.is_set():
            # The handler finishes while Redis is down: its acknowledgement cannot be sent.
            in_handler.set()
            redis_down.wait(10)
        handled.append(entry_id)

    worker = StreamConsumer(redis, handler=handler, consumer="runner", claim_idle_ms=200, block_ms=100)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"max_backoff_seconds": 0.2})
    thread.start()
    try:
        until(lambda: len(handled) == 3)
        interrupted = publish(redis, {"external_id": "interrupted"})
        assert in_handler.wait(10)
        services.stop_redis()
        try:
            redis_down.set()
            time.sleep(0.5)  # the loop meets the outage and backs off
        finally:
            services.start_redis()
        after = [publish(redis, {"external_id": f"after-{n}"}) for n in range(3)]
        until(lambda: set(before + [interrupted] + after) <= set(handled) and pending(redis) == 0)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    # At least once: the entry whose acknowledgement was lost is handled again, nothing is lost.
    assert handled.count(interrupted) == 2
    assert all(handled.count(entry) == 1 for entry in before + after)
    assert redis.xlen(STREAM + ".dead") == 0


def test_dead_entries_can_be_requeued_once_the_cause_is_fixed(redis):
    publish(redis, {"external_id": "poison"})
    broken = True
    handled = []

    def handler(entry_id, fields):
        if broken:
            raise ValueError("bug")
        handled.append(fields)

    worker = consumer(redis, handler, claim_idle_ms=1, max_attempts=1)
    until(lambda: (worker.run_once(), redis.xlen(STREAM + ".dead"))[1] == 1, step=0.005)
    broken = False
    assert requeue_dead(redis) == 1
    assert redis.xlen(STREAM + ".dead") == 0
    worker.run_once()
    assert handled == [{"external_id": "poison"}]
    assert pending(redis) == 0


def test_a_handler_that_finds_redis_down_stops_the_batch_for_run_to_wait(redis):
    ids = [publish(redis, {"external_id": str(n)}) for n in range(3)]
    from redis.exceptions import ConnectionError as RedisConnectionError

    calls = []

    def handler(entry_id, fields):
        calls.append(entry_id)
        raise RedisConnectionError("enqueue failed")

    with pytest.raises(RedisConnectionError):
        consumer(redis, handler).run_once()
    assert calls == ids[:1]
    assert pending(redis) == 3  # read, not acknowledged: claimed again later
