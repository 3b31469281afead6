"""Sample tasks: used by the tests, the benchmark and for trying the platform by hand."""

import time

from django.tasks import task

from .queues import HIGH_PRIORITY, LOW_PRIORITY
from .retry import RetryPolicy


@task()
def noop():
    """Do nothing (the benchmark's unit of work)."""


@task()
def returns_42():
    return 42


@task()
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@task(retry=RetryPolicy.fixed(3, 0))
def fails_n_times(key, n):
    """Fail the first `n` attempts of the run keyed `key`, then return the attempt count."""
    from .queues import get_redis

    count = get_redis().incr(f"engram:samples:fails:{key}")
    if count <= n:
        raise RuntimeError(f"planned failure {count} of {n}")
    return count


@task(retry=RetryPolicy.exponential(3, base=60, factor=5, cap=1800))
def always_fails(message="always fails"):
    raise ValueError(message)


@task()
def sleeps(seconds=1.0):
    time.sleep(seconds)
    return seconds


@task(takes_context=True)
def slow_with_progress(context, total=20, delay=0.05):
    for done in range(1, total + 1):
        time.sleep(delay)
        context.report_progress(done, total, f"item {done} of {total}")
    return total


@task(takes_context=True)
def ignores_cancel(context, seconds=60.0):
    """Swallow cancellation and keep going: only the forced stop ends it."""
    deadline = time.monotonic() + seconds
    done = 0
    while time.monotonic() < deadline:
        time.sleep(0.05)
        done += 1
        try:
            context.report_progress(done, None, "ignoring cancel")
        except Exception:  # noqa: BLE001 - deliberately deaf
            pass
    return done


@task(soft_time_limit=0.5, retry=RetryPolicy.none())
def overruns_soft_limit(seconds=5.0):
    """Sleep past the soft limit; record whether the limit was caught for cleanup."""
    from .exceptions import SoftTimeLimitExceeded

    try:
        time.sleep(seconds)
    except SoftTimeLimitExceeded:
        from .queues import get_redis

        get_redis().set("engram:samples:soft_cleanup", "1")
        raise


@task(hard_time_limit=1.0, retry=RetryPolicy.none())
def overruns_hard_limit(seconds=30.0):
    """Ignore every exception and never finish: only the hard limit stops it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            time.sleep(0.05)
        except BaseException:  # noqa: BLE001 - deliberately unkillable from inside
            pass


@task(takes_context=True)
def spawns_children(context, count=2):
    """Enqueue `count` follow-up runs of returns_42; they record this run as parent."""
    return [returns_42.enqueue().id for _ in range(count)]


@task(priority=HIGH_PRIORITY)
def high_noop():
    pass


@task(priority=LOW_PRIORITY)
def low_noop():
    pass


@task(unique_key="sample:{0}")
def unique_sleep(key, seconds=0.1):
    time.sleep(seconds)
    return key


@task(retry=RetryPolicy.fixed(2, 1.0))
def fails_once_then_waits(key):
    """Fail the first attempt; the retry waits one real second in RQ's scheduler."""
    from .queues import get_redis

    if get_redis().incr(f"engram:samples:waits:{key}") == 1:
        raise ConnectionError("first attempt fails")
    return "second attempt"


@task(retry=RetryPolicy.fixed(3, 0, retry_on=("builtins.ConnectionError",)))
def fails_with(exception_name):
    """Raise the named builtin exception; only ConnectionError is worth a retry."""
    import builtins

    raise getattr(builtins, exception_name)("raised on purpose")


@task()
def returns_not_json():
    return {1, 2, 3}


@task()
def big_result(size):
    return "x" * size


@task(retry=RetryPolicy.fixed(3, 0))
def sleeps_retryable(seconds=0.05):
    """Sleep; retried at once if its worker dies (the crash-recovery test's unit of work)."""
    time.sleep(seconds)
    return seconds


@task(takes_context=True)
def noop_with_progress(context):
    """Report progress once and return: the benchmark's unit of work on Engram's full path."""
    context.report_progress(1, 1, "done")


def plain_noop():
    """A bare RQ job function (no ledger): the benchmark's baseline."""


@task(retry=RetryPolicy.none())
def fails_first_time(key):
    """Fail the first run for `key` (dead at once); any later run of the same key succeeds."""
    from .queues import get_redis

    if get_redis().incr(f"engram:samples:first:{key}") == 1:
        raise RuntimeError(f"first run for {key} fails")
    return f"{key} ok"


# --- the chaos benchmark's mix (bench/chaos.py): every one at-least-once, retried on loss ------

AT_LEAST_ONCE = RetryPolicy.fixed(6, 0.5)
EFFECTS_TABLE = "jobs_sample_effect"  # created by bench/chaos.py, not a model: not part of the schema


@task(retry=AT_LEAST_ONCE)
def chaos_noop():
    """Nothing, at least once."""


@task(retry=AT_LEAST_ONCE)
def chaos_sleep(seconds=0.05):
    time.sleep(seconds)


@task(takes_context=True, retry=AT_LEAST_ONCE)
def chaos_flaky(context):
    """Fail the first attempt, succeed on a retry."""
    if context.run.attempt < 2:
        raise RuntimeError("planned failure of the first attempt")
    return context.run.attempt


@task(takes_context=True, retry=AT_LEAST_ONCE)
def chaos_progress(context, steps=5, delay=0.01):
    for done in range(1, steps + 1):
        time.sleep(delay)
        context.report_progress(done, steps, f"step {done}")
    return steps


@task(takes_context=True, retry=AT_LEAST_ONCE)
def chaos_effect(context):
    """Write one row to the effects table: a side effect the benchmark counts (at least once)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {EFFECTS_TABLE} (run_id, attempt) VALUES (%s, %s)",
                       [context.run_id, context.run.attempt])
