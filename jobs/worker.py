"""EngramWorker: the RQ worker class every `manage.py rqworker` runs (set in settings.RQ).

Two liveness signals, named apart:
- the *heartbeat*: the worker's row in the ledger (Worker.heartbeat_at, with its current run),
  written every JOBS_HEARTBEAT_SECONDS by the heartbeat thread; lost-run detection reads it;
- the *RQ key refresh*: the TTL of RQ's own worker key in Redis, which RQ calls heartbeat() (the
  method keeps RQ's name because RQ calls it); `rq info` and RQ's cleanup read it.
"""

import gc
import logging
import math
import os
import signal
import socket
import threading
import time

from django.db import DatabaseError, close_old_connections, connections
from redis.exceptions import RedisError
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker, WorkerStatus

from .conf import jobs_settings
from .job_taker import JobTaker, TakenRun
from .pausing import PausedQueuesCache, queue_of
from .reconcile import recover_lost_runs
from .rq_parts import EngramRQScheduler, JobLinesAtDebug, NoDeathPenalty
from .runner import WorkerSession, current_session, flush_live_events

logger = logging.getLogger("jobs.worker")

# The longest one blocking pop lasts: a pause or resume reaches an idle worker within this (plus
# the paused set's one-second cache) instead of after RQ's ~400 s dequeue timeout.
PAUSE_CHECK_SECONDS = 2
# RQ refreshes its worker key three times per job, in three round trips each, and reads its
# suspend flag once: together about 40% of a no-op job on stock SimpleWorker (measured with
# bench/jobs_throughput.py). The key's TTL is minutes, so doing both at most once a second keeps
# the worker just as visible and stoppable.
RQ_BOOKKEEPING_SECONDS = 1.0
# Waits between pings while Redis is unreachable.
REDIS_RETRY_FIRST_SECONDS = 0.1
REDIS_RETRY_MAX_SECONDS = 2.0
_AGAIN = object()  # a dequeue slice that found nothing: look again


def run_id_of(rq_job_id):
    """The run id inside an RQ job id (`<run uuid>-<dispatch number>`)."""
    return rq_job_id.rsplit("-", 1)[0] if rq_job_id else None


def freeze_start_up_objects():
    """Collect once, then let the collector ignore every object alive now (gc.freeze).

    Django, RQ and the apps leave about 160,000 tracked objects that live as long as the process.
    A full collection walks them all (85-90 ms measured on the 2 busy cores, bench/start_latency.py's
    machine) and stalls whichever job the worker is picking up; frozen, it walks only what came
    later. The collection first keeps garbage from being frozen with them.
    """
    gc.collect()
    gc.freeze()


class EngramWorker(SimpleWorker):
    """Run jobs in the worker process (no fork per job) through one WorkerSession.

    Measured on 2 cores (bench/jobs_throughput.py): RQ's forking Worker ran 48-89 no-op jobs/s,
    SimpleWorker 145-505/s. The fork bought isolation we get another way: hard time limits and
    forced cancellation kill this process after recording the outcome, and the supervisor
    (`manage.py serve`, systemd in production) starts a fresh worker.

    A run's job is taken in one Redis round trip (jobs.job_taker) and handed straight to the
    session (jobs.runner.WorkerSession), which takes the run from claim to a durably written
    outcome before the next take; RQ's per-job bookkeeping is skipped for it, while any other
    job runs through RQ's own path. A heartbeat thread, on a connection of its own, reports the
    worker and its current run to the ledger and sweeps for runs of lost workers. Redis and
    Postgres outages are waited out: the worker never exits because of one.
    """

    death_penalty_class = NoDeathPenalty

    def __init__(self, *args, **kwargs):
        # django-rq's rqworker passes --serializer, whose default is pickle; our payloads are JSON.
        kwargs["serializer"] = JSONSerializer
        super().__init__(*args, **kwargs)
        self.log = JobLinesAtDebug(self.log, {})
        self.session = WorkerSession(self.name, socket.gethostname(), os.getpid())
        self._session_token = None
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread = None
        self._shutdown_timer = None
        self._rq_key_refreshed_at = self._suspension_checked_at = -math.inf  # monotonic (RQ_BOOKKEEPING_SECONDS)
        self._current_job_id = None  # the taken run's RQ job while the session executes it
        self._finished_job_id = None  # the last run's RQ job, its hash deleted by the next take
        self._logs_jobs = False  # whether the per-job DEBUG line is wanted (read once, at bootstrap)

    def work(self, burst=False, *args, **kwargs):
        """RQ's work loop; a long-running worker first takes its start-up objects out of the collector's reach."""
        if not burst:
            freeze_start_up_objects()
        return super().work(burst, *args, **kwargs)

    def bootstrap(self, *args, **kwargs):
        super().bootstrap(*args, **kwargs)
        self._logs_jobs = self.log.isEnabledFor(logging.DEBUG)

    # --- life cycle --------------------------------------------------------------------

    def register_birth(self):
        super().register_birth()
        from .models import Worker

        Worker.register(self.name, self.hostname or "", os.getpid(), self.queue_names())
        self._session_token = current_session.set(self.session)
        self._heartbeat_thread = threading.Thread(target=self._heartbeat_loop, name="engram-heartbeat", daemon=True)
        self._heartbeat_thread.start()

    def register_death(self):
        from .models import Worker

        self._heartbeat_stop.set()
        if self._shutdown_timer is not None:
            self._shutdown_timer.cancel()
        if self._session_token is not None:
            current_session.reset(self._session_token)
            self._session_token = None
        if self._finished_job_id is not None:
            try:
                self.connection.delete(Job.key_for(self._finished_job_id))
            except RedisError:  # a finished run's leftover hash; nothing reads it
                pass
            self._finished_job_id = None
        try:
            Worker.mark_stopped(self.name, self._own_stats())
        except DatabaseError as exc:  # its heartbeat stops anyway: it reads as dead after the timeout
            logger.warning("worker %s: cannot record its stop: %s", self.name, exc)
        try:
            super().register_death()
        except RedisError as exc:
            logger.warning("worker %s: cannot unregister from Redis: %s", self.name, exc)

    def _start_scheduler(self, burst=False, logging_level="INFO", date_format=None, log_format=None):
        """RQ's own start-up of its scheduler, with a scheduler that dies with this worker."""
        from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT

        self.scheduler = EngramRQScheduler(
            self.queues, connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.logger.level,
            date_format=date_format or DEFAULT_LOGGING_DATE_FORMAT, log_format=log_format or DEFAULT_LOGGING_FORMAT,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()

    def _heartbeat_loop(self):
        """Heartbeat into the ledger and sweep for lost runs until the worker stops (own thread)."""
        from .models import Worker

        interval = jobs_settings.HEARTBEAT_SECONDS
        reachable_since = None
        while not self._heartbeat_stop.wait(interval):
            try:
                close_old_connections()
                if not Worker.beat(self.name, self._own_stats()):
                    # Its row was deleted (an operator cleaning up): back, with its current run,
                    # which recovery reads to tell a running run from a lost one.
                    Worker.register(self.name, self.hostname or "", os.getpid(), self.queue_names())
                    Worker.beat(self.name, self._own_stats())
                now = time.monotonic()
                reachable_since = reachable_since or now
                # Every worker sweeps, so detection does not wait for the scheduler leader. Only
                # after the database has answered for a whole timeout: right after an outage
                # every heartbeat is stale, and live workers need a beat to say so.
                if now - reachable_since >= jobs_settings.WORKER_TIMEOUT_SECONDS:
                    recover_lost_runs()
            except (DatabaseError, RedisError) as exc:
                reachable_since = None
                logger.warning("worker %s: heartbeat failed: %s", self.name, exc)
                connections.close_all()
            except Exception:  # noqa: BLE001 - nothing may kill the heartbeat thread
                logger.exception("worker %s: heartbeat failed", self.name)
        connections.close_all()

    def _own_stats(self):
        session = self.session
        return {"current_run": session.current_run_id, "done": session.done, "failed": session.failed}

    def execute_job(self, job, queue):
        """Run a taken run through the session; let RQ run any other job, and wait out Redis."""
        if isinstance(job, TakenRun):
            return self._execute_run(job)
        job.redis_server_version = self.get_redis_server_version()
        try:
            super().execute_job(job, queue)
        except RedisError as exc:  # not a run's job: RQ's own record of it is all there is
            logger.warning("worker %s: Redis failed around job %s: %s", self.name, job.id, exc)
            self._wait_for_redis()

    def _execute_run(self, taken):
        """The fast path: the session claims, runs and records the run; no RQ bookkeeping."""
        self._current_job_id = taken.id
        try:
            self.session.execute(taken.run_id)
        except Exception:  # noqa: BLE001 - as RQ's perform_job: the worker goes on to the next job
            # The session records every task outcome; only a platform fault lands here (say, a
            # task path that no longer imports). The run then reads as lost and is recovered.
            logger.exception("worker %s: run %s failed outside its task", self.name, taken.run_id)
        finally:
            self._current_job_id = None
            self._finished_job_id = taken.id  # deleted with the next take: its outcome is in the ledger
        if self._logs_jobs:
            self.log.debug("Worker %s: %s: Job OK (%s)", self.name, taken.run_id, taken.id)

    def get_current_job_id(self):
        """The RQ job id of the run being executed (stop-job and shutdown read it), else RQ's."""
        return self._current_job_id or super().get_current_job_id()

    def _wait_for_redis(self):
        """Ping Redis with backoff until it answers (the worker holds no job meanwhile)."""
        delay = REDIS_RETRY_FIRST_SECONDS
        while True:
            try:
                self.connection.ping()
                return
            except RedisError as exc:
                logger.warning("worker %s: Redis unavailable (%s); retrying in %.1fs", self.name, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, REDIS_RETRY_MAX_SECONDS)

    def run_maintenance_tasks(self):
        try:
            super().run_maintenance_tasks()
        except RedisError as exc:  # RQ's loop would quit on it; the next round retries
            logger.warning("worker %s: RQ maintenance skipped, Redis unavailable: %s", self.name, exc)

    # --- RQ's own per-job Redis work -------------------------------------------------------

    def heartbeat(self, timeout=None, pipeline=None):
        """The RQ key refresh (RQ's name for it): one round trip, at most once a second between jobs.

        Not the ledger heartbeat (_heartbeat_loop), which says whether the worker is alive.
        """
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        now = time.monotonic()
        if timeout is None and now - self._rq_key_refreshed_at < RQ_BOOKKEEPING_SECONDS:
            return
        self._rq_key_refreshed_at = now
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                super().heartbeat(timeout, pipe)
                pipe.execute()
        except RedisError as exc:  # RQ's loop would quit on it; the dequeue waits Redis out
            logger.warning("worker %s: RQ key refresh failed: %s", self.name, exc)

    def set_state(self, state, pipeline=None):
        """RQ's worker state, without writing "idle" twice in a row.

        SimpleWorker writes "idle" after each job and the dequeue that follows writes it again:
        one Redis round trip a job that changes nothing.
        """
        if pipeline is None and state == WorkerStatus.IDLE and self._state == WorkerStatus.IDLE:
            return
        try:
            super().set_state(state, pipeline)
        except RedisError:
            self._state = None  # not written: the next write of any state goes out
            raise

    def check_for_suspension(self, burst):
        """Read RQ's suspend flag at most once a second (`rq suspend` waits that long at worst)."""
        now = time.monotonic()
        if now - self._suspension_checked_at < RQ_BOOKKEEPING_SECONDS:
            return
        self._suspension_checked_at = now
        try:
            super().check_for_suspension(burst)
        except RedisError as exc:
            logger.warning("worker %s: cannot read RQ's suspend flag: %s", self.name, exc)

    # --- paused queues --------------------------------------------------------------------

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Dequeue from the lanes of unpaused queues only, blocking in short slices to see changes."""
        if getattr(self, "_paused_cache", None) is None:
            self._paused_cache = PausedQueuesCache(self.connection)
            self._taker = JobTaker(self.connection, self.key, self.name, self.serializer)
        idle_since = time.monotonic()
        while True:
            if self._stop_requested:  # a SIGTERM that came between two jobs: take no other
                return None
            try:
                result = self._dequeue_slice(timeout, max_idle_time, idle_since)
            except RedisError as exc:  # RQ retries only some errors and only while it blocks
                logger.warning("worker %s: cannot dequeue: %s", self.name, exc)
                if timeout is None:
                    return None
                self._wait_for_redis()
                continue
            if result is not _AGAIN:
                return result

    def _dequeue_slice(self, timeout, max_idle_time, idle_since):
        """One look at the unpaused lanes: a job, None (burst done, or idle too long), or _AGAIN."""
        paused = self._paused_cache.get()
        lanes = [q for q in self._ordered_queues if queue_of(q.name) not in paused]
        if timeout is None:  # burst: one non-blocking pass
            return self._dequeue_from(lanes, None) if lanes else None
        wait = min(timeout, PAUSE_CHECK_SECONDS)
        if max_idle_time is not None:
            left = max_idle_time - (time.monotonic() - idle_since)
            if left <= 0:
                return None
            wait = max(1, min(wait, math.ceil(left)))
        if lanes:
            # One pop of at most `wait` seconds: the next slice re-reads the paused set.
            result = self._dequeue_from(lanes, wait)
            if result is not None:
                return result
        else:
            # Every queue this worker serves is paused: there is nothing to block on in Redis.
            self.set_state(WorkerStatus.IDLE)
            self.heartbeat()
            if self.should_run_maintenance_tasks:
                self.run_maintenance_tasks()
            time.sleep(wait)
        return _AGAIN

    def _dequeue_from(self, lanes, timeout):
        """Take the next job off `lanes` (blocking up to `timeout` seconds); None if none came.

        One round trip when a job waits (JobTaker's script, which also deletes the hash of the
        job this worker finished last); an idle worker blocks in BLPOP, then takes what it got.
        """
        self.heartbeat()
        if self.should_run_maintenance_tasks:
            self.run_maintenance_tasks()
        while True:
            taken = self._taker.take(lanes, self._finished_job_id)
            self._finished_job_id = None
            if taken is None and timeout is not None:
                # Idle while blocked (the script wrote it): a SIGTERM now stops the worker at once
                # (RQ's warm shutdown waits only for a busy worker), instead of after its next job.
                self._state = WorkerStatus.IDLE
                popped = self.connection.blpop([lane.key for lane in lanes], timeout)
                taken = self._taker.take(lanes, popped=[part.decode() for part in popped]) if popped else None
            self._state = WorkerStatus.IDLE if taken is None else WorkerStatus.BUSY  # the script wrote it
            if taken is not False:  # False: its hash was gone (RQ skips those too); look again
                return taken

    # --- shutdown and forced stops ------------------------------------------------------

    def handle_warm_shutdown_request(self):
        """Finish the current job, but interrupt it after the shutdown grace period."""
        super().handle_warm_shutdown_request()
        grace = jobs_settings.SHUTDOWN_GRACE_SECONDS
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
            logger.warning("worker %s: run %s ignored its cancel request; killing the worker", self.name, run_id)
            flush_live_events()
            connections.close_all()
            os.kill(os.getpid(), signal.SIGKILL)
