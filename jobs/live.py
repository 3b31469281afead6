"""Live progress: turn a worker's run signals into channel-layer events for WebSocket watchers.

Every event goes to the run's group (`run.<id>`) and to `dashboard`. Its name is
`<kind>.started|progress|completed|failed|cancelled`, where kind is the task's `kind` option
("job" when empty). Progress is throttled per run to one event per
JOBS_LIVE_EVENT_INTERVAL_SECONDS; the newest held-back report goes out before the run's next
status event, so the final count always arrives. Status events are never throttled.
"""

import asyncio
import atexit
import collections
import logging
import math
import os
import threading
import time

from django.dispatch import receiver

from .conf import jobs_settings
from .definitions import get_task
from .queues import get_redis, get_rq_queue, worker_queue_names
from .signals import run_progress, run_status_changed
from .status import RunStatus

logger = logging.getLogger("jobs.live")

DASHBOARD_GROUP = "dashboard"
# The channel-layer message type: a batch of events for one group (consumers' `live_events`).
MESSAGE_TYPE = "live.events"
# How often one worker process adds a queue-depth snapshot to the dashboard's events.
QUEUE_DEPTH_INTERVAL_SECONDS = 2.0
# Error messages can be whole documents; the ledger keeps the full text and the traceback.
ERROR_MESSAGE_MAX_CHARS = 1000
# A worker's run status -> the event name's suffix and, for failures, whether another attempt comes.
STATUS_EVENTS = {
    "started": ("started", None),
    "succeeded": ("completed", None),
    "failed": ("failed", True),
    "dead": ("failed", False),
    "cancelled": ("cancelled", None),
}


def run_group(run_id):
    return f"run.{run_id}"


def event_kind(task_path):
    """The event family of a task: its `kind` option, or "job"."""
    try:
        return getattr(get_task(task_path), "kind", "") or "job"
    except LookupError:
        return "job"


def _iso(value):
    # msgpack (channels_redis) carries no datetimes.
    return value.isoformat() if value else None


def describe_run(run):
    """The run's state as JSON-safe fields: the body of snapshots and events."""
    fields = {
        "run_id": str(run.pk),
        "task": run.task_path,
        "kind": event_kind(run.task_path),
        "status": str(run.status),
        "status_label": str(RunStatus(run.status).label),  # as the admin shows it: "Failed (will retry)"
        "attempt": run.attempt,
        "done": run.progress_done,
        "total": run.progress_total,
        "message": run.progress_message,
        "fraction": run.progress_fraction,
        "enqueued_at": _iso(run.enqueued_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "updated_at": _iso(run.progress_updated_at),
    }
    if run.status in ("failed", "dead"):
        fields["error_type"] = run.error_type
        fields["error_message"] = run.error_message[:ERROR_MESSAGE_MAX_CHARS]
        fields["will_retry"] = run.status == "failed"
        fields["retry_at"] = _iso(run.run_after) if run.status == "failed" else None
    return fields


def progress_event(run, done, total, message):
    fields = describe_run(run)
    fields.update(done=done, total=total, message=message,
                  fraction=min(1.0, done / total) if total else None)
    return {"type": f"{fields['kind']}.progress", **fields, "at": time.time()}


def status_event(run, status):
    name, will_retry = STATUS_EVENTS[status]
    fields = describe_run(run)
    if will_retry is not None:
        # The signal's word wins over the row: "dead" and "failed" are both failures to watchers.
        fields["will_retry"] = will_retry
    return {"type": f"{fields['kind']}.{name}", **fields, "at": time.time()}


def queue_depths():
    """Jobs waiting in each RQ queue, highest lanes first (one Redis round trip)."""
    names = worker_queue_names()
    pipe = get_redis().pipeline(transaction=False)
    for name in names:
        pipe.llen(get_rq_queue(name).key)
    return dict(zip(names, pipe.execute()))


class ChannelPublisher:
    """Send events to channel-layer groups from one background event loop, in order, in batches.

    async_to_sync(group_send) in the worker costs a new thread, event loop and Redis connection
    per call (2.4 ms measured on 2 cores), at least twice per job. This loop keeps its connection,
    and the job only pays for a hand-off: a slow or unreachable Redis never stalls a task.
    """

    max_backlog = 10_000  # events; beyond that (Redis gone for a while) new ones are dropped
    send_timeout = 5.0
    # At most one batch per window: events arriving meanwhile share one wake-up, one membership
    # check and one group_send per group. Delivered one by one they cost a worker of tiny jobs
    # ~1 ms of CPU per job, a quarter of the job itself; batched, this thread's CPU is bounded by
    # the window whatever the event rate. An event after a quiet spell goes out at once.
    batch_window = 0.02
    max_batch = 200  # events per channel-layer message

    def __init__(self):
        self._reset()
        # A forked child inherits the loop object and the locks, but not the thread using them.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self):
        self._start_lock = threading.Lock()
        self._loop = None
        self._wakeup = None  # an asyncio.Event of the loop
        self._lock = threading.Lock()
        self._delivered = threading.Condition(self._lock)
        self._pending = collections.deque()
        self._wake_scheduled = False
        self._queued = self._finished = 0
        self.failing = False
        self.dropped = 0

    def send(self, groups, event):
        """Queue `event` for every group in `groups`; never raises."""
        try:
            loop = self._loop or self._start()
            with self._lock:
                if len(self._pending) >= self.max_backlog:
                    self.dropped += 1
                    if self.dropped == 1 or self.dropped % 1000 == 0:
                        logger.warning("live events: backlog full, %d events dropped so far", self.dropped)
                    return
                self._pending.append((groups, event))
                self._queued += 1
                wake, self._wake_scheduled = not self._wake_scheduled, True
            if wake:
                loop.call_soon_threadsafe(self._wakeup.set)
        except Exception:  # noqa: BLE001 - e.g. the loop already closed at interpreter exit
            logger.exception("live events: cannot queue an event")

    def flush(self, timeout=5.0):
        """Wait until every event queued so far was delivered or given up; return whether it was."""
        with self._delivered:
            target = self._queued
            return self._delivered.wait_for(lambda: self._finished >= target, timeout)

    def _start(self):
        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()
                thread = threading.Thread(target=self._run, args=(loop, started), name="engram-live", daemon=True)
                thread.start()
                started.wait()
                self._loop = loop
        return self._loop

    def _run(self, loop, started):
        asyncio.set_event_loop(loop)
        self._wakeup = asyncio.Event()
        loop.create_task(self._deliver())
        loop.call_soon(started.set)
        loop.run_forever()

    async def _deliver(self):
        loop = asyncio.get_running_loop()
        last_batch = -math.inf
        while True:
            await self._wakeup.wait()
            delay = last_batch + self.batch_window - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            last_batch = loop.time()
            self._wakeup.clear()
            with self._lock:
                # From here on a new event schedules a new wake-up; those before are in this batch.
                self._wake_scheduled = False
                batch = list(self._pending)
                self._pending.clear()
            try:
                await self._send_batch(batch)
            finally:
                with self._delivered:
                    self._finished += len(batch)
                    self._delivered.notify_all()

    async def _send_batch(self, batch):
        from channels.layers import get_channel_layer

        try:
            # Looked up per batch: override_settings(CHANNEL_LAYERS=...) replaces the layer.
            layer = get_channel_layer()
            by_group = {}
            for groups, event in batch:
                for group in groups:
                    by_group.setdefault(group, []).append(event)
            watched = await watched_groups(layer, by_group)
            for group, events in by_group.items():
                if group not in watched:
                    continue
                for start in range(0, len(events), self.max_batch):
                    message = {"type": MESSAGE_TYPE, "events": events[start:start + self.max_batch]}
                    await asyncio.wait_for(layer.group_send(group, message), self.send_timeout)
        except Exception as exc:  # noqa: BLE001 - watchers miss events; the jobs go on
            if not self.failing:
                logger.warning("live events: the channel layer refused a message (%r); "
                               "events are dropped until it recovers", exc)
            self.failing = True
        else:
            if self.failing:
                logger.warning("live events: the channel layer is reachable again")
            self.failing = False


async def watched_groups(layer, groups):
    """The groups with at least one member, in one round trip per Redis host.

    Most runs have no watcher, yet channels_redis spends two round trips on a group_send to an
    empty group: four per event, which halved a worker's throughput of tiny jobs (233 -> 118
    jobs/s, bench/jobs_throughput.py). Skipping empty groups loses nothing: the event's ledger
    write came before this check, and a consumer joins its group before reading its snapshot,
    so a watcher who joins after the check reads the new state from the ledger.
    """
    group_key = getattr(layer, "_group_key", None)  # channels_redis's key of a group's members
    if group_key is None:
        return set(groups)  # another layer: send to every group
    by_host = {}
    for group in groups:
        by_host.setdefault(layer.consistent_hash(group), []).append(group)
    watched = set()
    for host, host_groups in by_host.items():
        pipe = layer.connection(host).pipeline(transaction=False)
        for group in host_groups:
            pipe.zcard(group_key(group))
        counts = await asyncio.wait_for(pipe.execute(), ChannelPublisher.send_timeout)
        watched.update(group for group, count in zip(host_groups, counts) if count)
    return watched


class LiveEvents:
    """Publish run events: progress at most once per interval per run, status always, last report kept."""

    def __init__(self, publisher, interval=None, clock=time.monotonic):
        self.publisher = publisher
        self._interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        # run id -> [when its last progress event went out, the newest held-back report or None]
        self._runs = {}
        self._depths_sent_at = -math.inf

    @property
    def interval(self):
        return jobs_settings.LIVE_EVENT_INTERVAL_SECONDS if self._interval is None else self._interval

    def progress(self, run, done, total, message):
        """Publish a progress report now, or hold it back until the interval has passed."""
        now = self.clock()
        with self._lock:
            state = self._runs.setdefault(run.pk, [-math.inf, None])
            if now - state[0] < self.interval:
                state[1] = (run, done, total, message)  # the newest report replaces a held one
                return
            state[0], state[1] = now, None
        self._publish(run, progress_event(run, done, total, message))

    def status(self, run, status):
        """Publish a status change, after the attempt's held-back progress report if there is one."""
        with self._lock:
            state = self._runs.pop(run.pk, None)
        # A report still held when an attempt starts is from one that ended unannounced (a
        # shutdown interrupted it): stale.
        if state is not None and state[1] is not None and status != "started":
            self._publish(run, progress_event(*state[1]))
        self._publish(run, status_event(run, status))

    def _publish(self, run, event):
        self.publisher.send((run_group(run.pk), DASHBOARD_GROUP), event)
        self._publish_queue_depths()

    def _publish_queue_depths(self):
        """Add a queue-depth snapshot to the dashboard's events, at most every few seconds."""
        now = self.clock()
        if now - self._depths_sent_at < QUEUE_DEPTH_INTERVAL_SECONDS:
            return
        self._depths_sent_at = now
        try:
            depths = {"type": "queues.depth", "queues": queue_depths(), "at": time.time()}
        except Exception:  # noqa: BLE001 - a missing snapshot must not cost the run's own event
            logger.warning("live events: cannot read the queue depths", exc_info=True)
            return
        self.publisher.send((DASHBOARD_GROUP,), depths)


publisher = ChannelPublisher()
live_events = LiveEvents(publisher)
# A worker's last events are still in the loop when it exits (burst mode, SIGTERM).
atexit.register(publisher.flush, 2.0)


@receiver(run_progress, dispatch_uid="jobs.live.publish_progress")
def publish_progress(sender, run, done, total, message, **kwargs):
    """Publish a run's progress report to its watchers, throttled."""
    try:
        live_events.progress(run, done, total, message)
    except Exception:  # noqa: BLE001 - a receiver's error would otherwise fail the task
        logger.exception("live events: cannot publish progress of run %s", run.pk)


@receiver(run_status_changed, dispatch_uid="jobs.live.publish_status")
def publish_status(sender, run, status, **kwargs):
    """Publish a run's status change to its watchers (the outbox's moves are not events)."""
    if status not in STATUS_EVENTS:
        return
    try:
        live_events.status(run, status)
    except Exception:  # noqa: BLE001 - a receiver's error would otherwise fail the task
        logger.exception("live events: cannot publish status %s of run %s", status, run.pk)
