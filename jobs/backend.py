"""The TASKS backend: Django's task API on top of the Postgres ledger and RQ."""

import gc
import json
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone

from .conf import jobs_settings
from .correlation import request_id_for_new_run
from .definitions import JobTask
from .exceptions import InvalidArguments
from .queues import lane_for_priority
from .run_ids import new_run_id
from .status import RunStatus, Trigger


class RQBackend(BaseTaskBackend):
    task_class = JobTask
    supports_defer = True
    supports_get_result = True
    supports_priority = True
    supports_async_task = False

    def __init__(self, alias, params):
        super().__init__(alias, params)
        # Tasks are frozen, and this backend's options are fixed (new TASKS settings make a new
        # backend): a task valid once stays valid. Django's checks read the function's signature,
        # ~10 us of each enqueue.
        self._valid_tasks = set()

    def validate_task(self, task):
        try:
            if task in self._valid_tasks:
                return
        except TypeError:  # an unhashable option: checked every time
            pass
        super().validate_task(task)
        if not isinstance(task, JobTask):
            raise InvalidTask(f"{self.alias!r} runs only tasks created with its task class (JobTask)")
        try:
            if len(self._valid_tasks) >= _PROTOTYPES_KEPT:  # .using() makes new tasks: keep it bounded
                self._valid_tasks.clear()
            self._valid_tasks.add(task)
        except TypeError:
            pass

    def enqueue(self, task, args, kwargs):
        """Write the run to the ledger now; hand it to RQ after the transaction commits."""
        return self._enqueue(task, [(args, kwargs)])[0]

    def enqueue_many(self, task, args_list, kwargs):
        """Enqueue one run per args tuple with one INSERT/COPY and one Redis round trip per chunk.

        Django's task API enqueues one call at a time; a bulk import of 100k rows needs this.
        """
        return self._enqueue(task, [(args, kwargs) for args in args_list])

    def _enqueue(self, task, calls):
        """The one enqueue path (a single enqueue is a batch of one); return a TaskResult per call."""
        from .policies import effective_policy

        self.validate_task(task)
        policy = effective_policy(task)
        origin = _origin()
        with _collector_paused(len(calls) > 1):
            return self._write(task, policy, calls, _prototype(task, policy, origin), origin[0])

    def _write(self, task, policy, calls, like, parent):
        """Write the runs, a chunk at a time, and hand them to RQ; return their TaskResults."""
        from .dispatch import dispatch_on_commit, push_written
        from .models import JobRun
        from .results import to_task_result

        runs, like = _new_runs(task, calls, like, parent)
        # Outside a transaction nothing can roll the rows back: write them already dispatched and
        # push them (one write, not two); if Redis refuses, push_written puts them in the outbox.
        # A paused task's runs wait in the outbox; the dispatcher sends them once it is resumed.
        autocommit = not transaction.get_connection().in_atomic_block and not policy.paused
        results = []
        for start in range(0, len(runs), BULK_CHUNK):
            chunk = runs[start:start + BULK_CHUNK]
            if autocommit:
                for run in chunk:
                    _mark_dispatched(run)
            if task.unique_key:
                # Each insert may meet its duplicate, whose existing run is the answer.
                written, answers = [], []
                for run in chunk:
                    existing = _save_unless_duplicate(run, like)
                    answers.append(existing or run)
                    if existing is None:
                        written.append(run)
            else:
                # One row: one INSERT round trip (a one-row COPY takes two); more: one COPY.
                chunk[0].insert(like) if len(chunk) == 1 else JobRun.insert_many(chunk, like=like[:2])
                written = answers = chunk
            if autocommit and written:
                push_written(written)
            elif not policy.paused and written:
                dispatch_on_commit(written)
            fresh = {id(run) for run in written}
            for answer in answers:
                result = to_task_result(answer, task)
                if id(answer) in fresh:
                    task_enqueued.send(type(self), task_result=result)
                results.append(result)
        return results

    def get_result(self, result_id):
        """Serve the result from the ledger, so it outlives Redis TTLs and flushes."""
        from django.core.exceptions import ValidationError

        from .models import JobRun
        from .results import to_task_result

        try:
            run = JobRun.objects.get(pk=result_id)
        except (JobRun.DoesNotExist, ValidationError, ValueError):
            raise TaskResultDoesNotExist(result_id) from None
        return to_task_result(run)

    def check(self, **kwargs):
        from .checks import check_backend

        return check_backend(self)


# Runs per COPY and Redis pipeline in enqueue_many: big enough to amortise the round trips,
# small enough to keep memory modest.
BULK_CHUNK = 500


def _origin():
    """Who is enqueueing: (parent run, trigger, origin dict), from the context variables."""
    from .context import current_origin, current_run

    parent = current_run.get()
    origin = current_origin.get() or {}
    if origin.get("trigger"):
        trigger = origin["trigger"]
    elif origin.get("user") is not None:
        trigger = Trigger.USER
    elif origin.get("schedule") is not None:
        trigger = Trigger.SCHEDULE
    elif parent is not None:
        trigger = Trigger.PARENT
    else:
        trigger = Trigger.API
    return parent, trigger, origin


def _new_runs(task, calls, like, parent):
    """(Unsaved pending runs, one per (args, kwargs), and the `like` they are siblings of)."""
    from .models import JobRun

    # Copied once per enqueue: siblings of separate enqueues never share a mutable value. The
    # copy is converted once here, not once per row.
    like = JobRun.prototype_with(like, retry_policy=dict(like[0].retry_policy))
    base = like[0]
    runs = []
    for args, kwargs in calls:
        args, kwargs = _json_arguments(task, args, kwargs)
        now = timezone.now()
        runs.append(base.sibling(
            id=new_run_id(), args=args, kwargs=kwargs, unique_key=task.resolve_unique_key(args, kwargs),
            request_id=request_id_for_new_run(parent), enqueued_at=now, status_changed_at=now,
        ))
    return runs, like


@contextmanager
def _collector_paused(pause):
    """Pause Python's cyclic garbage collector for a bulk enqueue.

    Every object a bulk enqueue allocates (runs, rows, results) lives until it returns, so the
    collector's passes over them find nothing, yet they were a fifth of a bulk enqueue's CPU
    (~15 us per run). Reference counting still frees what dies. Left alone if the collector
    is already off (another thread's bulk enqueue, or the application's choice).
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# (task, policy, default result TTL) -> the prototype of a plain enqueue's runs (no parent, no
# origin), as JobRun.prototype_of() gives it: Model.__init__ per enqueue was a sixth of a single
# enqueue's CPU. A prototype is never saved; it lends its values and its INSERT to siblings.
_prototypes = {}
_PROTOTYPES_KEPT = 256


def _prototype(task, policy, who):
    """(prototype run, its row values, its statement cache) of this enqueue's runs."""
    from .models import JobRun

    parent, trigger, origin = who
    if parent is not None or origin:
        return JobRun.prototype_of(_new_prototype(task, policy, who))
    key = (task, policy, _default_result_ttl())
    try:
        like = _prototypes.get(key)
    except TypeError:  # an unhashable option (a list where a tuple belongs): no cache
        return JobRun.prototype_of(_new_prototype(task, policy, who))
    if like is None:
        if len(_prototypes) >= _PROTOTYPES_KEPT:  # .using() makes new tasks: keep the cache bounded
            _prototypes.clear()
        like = _prototypes[key] = JobRun.prototype_of(_new_prototype(task, policy, who))
    return like


def _new_prototype(task, policy, who):
    """An unsaved pending run of `task` under `policy`, enqueued by `who`; no arguments yet."""
    from .models import JobRun

    parent, trigger, origin = who
    now = timezone.now()
    return JobRun(
        task_path=task.module_path,
        queue=task.queue_name,
        priority=policy.priority,
        lane=lane_for_priority(policy.priority),
        max_attempts=policy.retry.max_attempts,
        retry_policy=policy.retry.to_json(),
        soft_time_limit=policy.soft_time_limit,
        hard_time_limit=policy.hard_time_limit,
        result_ttl=task.result_ttl if task.result_ttl is not None else _default_result_ttl(),
        run_after=task.run_after,
        parent=parent,
        root=(parent.root or parent) if parent is not None else None,
        trigger=trigger,
        enqueued_by=origin.get("user"),
        retry_of=origin.get("retry_of"),
        schedule=origin.get("schedule"),
        enqueued_at=now,
        status_changed_at=now,
    )


def _mark_dispatched(run):
    """Write a run already dispatched: it is pushed right after its autocommitted insert."""
    delayed = run.run_after is not None and run.run_after > run.enqueued_at
    run.status = RunStatus.SCHEDULED if delayed else RunStatus.QUEUED
    run.dispatches = 1


def _default_result_ttl():
    return jobs_settings.RQ_RESULT_TTL


def _json_arguments(task, args, kwargs):
    """Return args/kwargs as they will come back from JSON, or raise a clear error."""
    try:
        encoded = json.dumps([list(args), dict(kwargs)], allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArguments(
            f"arguments of {task.module_path} must be JSON-serialisable (pass ids, not objects): {exc}"
        ) from None
    args, kwargs = json.loads(encoded)
    return args, kwargs


def _save_unless_duplicate(run, like):
    """Insert the run, or return the active run that already holds its unique key."""
    from .models import JobRun

    try:
        with transaction.atomic():
            run.insert(like)
        return None
    except IntegrityError:
        existing = JobRun.objects.filter(unique_key=run.unique_key, status__in=RunStatus.active()).first()
        if existing is None:  # the holder finished between our insert and this read
            return _save_unless_duplicate(run, like)
        return existing
