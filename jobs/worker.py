"""EngramWorker: the RQ worker class every `manage.py rqworker` runs (set in settings.RQ)."""

import logging
import math
import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connections
from rq.serializers import JSONSerializer
from rq.timeouts import BaseDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus

from .dispatch import ENTRYPOINT
from .pausing import PausedQueuesCache, queue_of
from .runner import abandon_claim, claim_ahead, deferred, ledger
from .runner import stats as runner_stats

logger = logging.getLogger("jobs.worker")

# The longest one blocking pop lasts: a pause or resume reaches an idle worker within this (plus
# the paused set's one-second cache) instead of after RQ's ~400 s dequeue timeout.
PAUSE_CHECK_SECONDS = 2
# RQ refreshes its worker key three times per job, in three round trips each, and reads its
# suspend flag once: together about 40% of a no-op job on stock SimpleWorker (measured with
# bench/jobs_throughput.py). The key's TTL is minutes, so doing both at most once a second keeps
# the worker just as visible and stoppable.
HEARTBEAT_SECONDS = 1.0


class NoDeathPenalty(BaseDeathPenalty):
    """RQ's SIGALRM timeout is off: jobs.limits enforces each task's soft and hard limits."""

    def setup_death_penalty(self):
        pass

    def cancel_death_penalty(self):
        pass


def run_id_of(rq_job_id):
    """The run id inside an RQ job id (`<run uuid>-<dispatch number>`)."""
    return rq_job_id.rsplit("-", 1)[0] if rq_job_id else None


class EngramWorker(SimpleWorker):
    """Run jobs in the worker process (no fork per job) with ledger heartbeats.

    Measured on 2 cores (bench/jobs_throughput.py): RQ's forking Worker ran 48-89 no-op jobs/s,
    SimpleWorker 145-505/s. The fork bought isolation we get another way: hard time limits and
    forced cancellation kill this process after recording the outcome, and the supervisor
    (`manage.py serve`, systemd in production) starts a fresh worker.

    Per job it also trims RQ's own Redis work (heartbeats, the suspend flag; see
    HEARTBEAT_SECONDS) and sends the run's claim the moment the job is dequeued (runner.ledger).
    """

    death_penalty_class = NoDeathPenalty

    def __init__(self, *args, **kwargs):
        # django-rq's rqworker passes --serializer, whose default is pickle; our payloads are JSON.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread = None
        self._shutdown_timer = None
        self._beat_at = self._suspension_checked_at = -math.inf  # monotonic times (see HEARTBEAT_SECONDS)

    # --- life cycle --------------------------------------------------------------------

    def register_birth(self):
        super().register_birth()
        from .models import Worker

        Worker.register(self.name, self.hostname or "", os.getpid(), self.queue_names())
        # This worker flushes held successes before it idles and when it stops (see below).
        deferred.enabled = True
        ledger.start()
        self._stats_base = dict(runner_stats)
        self._heartbeat_thread = threading.Thread(target=self._beat, name="engram-heartbeat", daemon=True)
        self._heartbeat_thread.start()

    def register_death(self):
        from .models import Worker

        self._heartbeat_stop.set()
        if self._shutdown_timer is not None:
            self._shutdown_timer.cancel()
        try:
            self._flush_successes()
        finally:
            deferred.enabled = False
            ledger.stop()
        try:
            Worker.mark_stopped(self.name, self._own_stats())
        finally:
            super().register_death()

    def _beat(self):
        """Refresh this worker's heartbeat row until it stops (own thread, own DB connection)."""
        from .models import Worker

        interval = settings.JOBS_HEARTBEAT_SECONDS
        while not self._heartbeat_stop.wait(interval):
            try:
                close_old_connections()
                if not Worker.beat(self.name, self._own_stats()):
                    # Its row was deleted (an operator cleaning up): back, with its current run,
                    # which recovery reads to tell a running run from a lost one.
                    Worker.register(self.name, self.hostname or "", os.getpid(), self.queue_names())
                    Worker.beat(self.name, self._own_stats())
            except Exception:  # noqa: BLE001 - a DB blip must not kill the heartbeat thread
                logger.exception("worker %s: heartbeat failed", self.name)
        connections.close_all()

    def _own_stats(self):
        """This worker's counters (a process may host several workers one after another in tests)."""
        base = getattr(self, "_stats_base", {"done": 0, "failed": 0})
        return {"current_run": runner_stats["current_run"], "done": runner_stats["done"] - base["done"],
                "failed": runner_stats["failed"] - base["failed"]}

    def _flush_successes(self):
        """Write the success the runner holds for the next claim; on a DB error keep it for later."""
        try:
            deferred.flush()
        except Exception:  # noqa: BLE001 - the next claim or flush writes it; the loop must go on
            logger.exception("worker %s: cannot record a finished run yet; will retry", self.name)

    def execute_job(self, job, queue):
        """Send the run's claim now, so it overlaps RQ's preparations before it calls the task."""
        run_id = job.args[0] if ledger.running and job.func_name == ENTRYPOINT and job.args else None
        if run_id is not None:
            claim_ahead(run_id, self.name, socket.gethostname(), os.getpid())
        try:
            super().execute_job(job, queue)
        finally:
            if run_id is not None:
                abandon_claim(run_id)

    # --- RQ's own per-job Redis work -------------------------------------------------------

    def heartbeat(self, timeout=None, pipeline=None):
        """Refresh RQ's worker key in one round trip, at most once a second between jobs."""
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        now = time.monotonic()
        if timeout is None and now - self._beat_at < HEARTBEAT_SECONDS:
            return
        self._beat_at = now
        with self.connection.pipeline(transaction=False) as pipe:
            super().heartbeat(timeout, pipe)
            pipe.execute()

    def check_for_suspension(self, burst):
        """Read RQ's suspend flag at most once a second (`rq suspend` waits that long at worst)."""
        now = time.monotonic()
        if now - self._suspension_checked_at < HEARTBEAT_SECONDS:
            return
        self._suspension_checked_at = now
        super().check_for_suspension(burst)

    # --- paused queues --------------------------------------------------------------------

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Dequeue from the lanes of unpaused queues only, blocking in short slices to see changes."""
        if getattr(self, "_paused_cache", None) is None:
            self._paused_cache = PausedQueuesCache(self.connection)
        idle_since = time.monotonic()
        while True:
            paused = self._paused_cache.get()
            lanes = [q for q in self._ordered_queues if queue_of(q.name) not in paused]
            if deferred.pending is not None:
                # A waiting job's claim writes the held success; with none waiting, write it now,
                # before this worker blocks for seconds with a finished run still "running".
                result = self._dequeue_from(lanes, None, None) if lanes else None
                if result is not None:
                    return result
                self._flush_successes()
                if timeout is None:
                    return None  # burst: that pass was its one look at the queues
            if timeout is None:  # burst: one non-blocking pass
                return self._dequeue_from(lanes, None, None) if lanes else None
            wait = min(timeout, PAUSE_CHECK_SECONDS)
            if max_idle_time is not None:
                left = max_idle_time - (time.monotonic() - idle_since)
                if left <= 0:
                    return None
                wait = max(1, min(wait, math.ceil(left)))
            if lanes:
                # max_idle_time=wait makes RQ return after one empty pop instead of blocking on
                # with the lanes it was handed, so the next slice re-reads the paused set.
                result = self._dequeue_from(lanes, wait, wait)
                if result is not None:
                    return result
            else:
                # Every queue this worker serves is paused: there is nothing to block on in Redis.
                self.set_state(WorkerStatus.IDLE)
                self.heartbeat()
                if self.should_run_maintenance_tasks:
                    self.run_maintenance_tasks()
                time.sleep(wait)

    def _dequeue_from(self, lanes, timeout, max_idle_time):
        everything = self._ordered_queues
        self._ordered_queues = lanes
        try:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        finally:
            # RQ reorders _ordered_queues only for its round_robin and random strategies, which
            # Engram never uses (high lanes must drain first), so the full list is kept as is.
            self._ordered_queues = everything

    # --- shutdown and forced stops ------------------------------------------------------

    def handle_warm_shutdown_request(self):
        """Finish the current job, but interrupt it after the shutdown grace period."""
        super().handle_warm_shutdown_request()
        grace = settings.JOBS_SHUTDOWN_GRACE_SECONDS
        if self.get_current_job_id() and self._shutdown_timer is None:
            # A second SIGTERM is RQ's cold shutdown: SystemExit inside the task, which the runner
            # records as an interruption and hands back to the outbox.
            self._shutdown_timer = threading.Timer(max(grace, 1.1), os.kill, (os.getpid(), signal.SIGTERM))
            self._shutdown_timer.daemon = True
            self._shutdown_timer.start()

    def kill_horse(self, sig=None):
        """RQ's stop-job command: there is no horse, so record the cancel and end this process."""
        from .models import JobRun

        run_id = run_id_of(self.get_current_job_id())
        if not run_id:
            return
        run = JobRun.objects.filter(pk=run_id).first()
        if run is not None and run.mark_cancelled():
            from .runner import flush_live_events
            from .signals import run_status_changed

            logger.warning("worker %s: run %s ignored its cancel request; killing the worker", self.name, run_id)
            run_status_changed.send(sender=JobRun, run=run, status="cancelled")
            flush_live_events()
            connections.close_all()
            os.kill(os.getpid(), signal.SIGKILL)
