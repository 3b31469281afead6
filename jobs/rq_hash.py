"""RQ's job hash for a dispatched run, copied from a prototype that RQ itself built.

Going through RQ for every run (create_job, to_dict, then SADD, HSET status, HSET job, RPUSH)
was half of an enqueue's CPU. The jobs of one task on one lane differ only in their id, their
one argument (the run id) and two timestamps. So RQ builds one prototype job per (lane, task,
result TTL), and each run copies it. The hash is field for field what `Queue.enqueue_call`
writes (a test compares them), so RQ's workers, `rq info` and the reconciler read it as before.

One Lua script writes a whole batch (PUSH_SCRIPT): the fields a prototype's jobs share travel
once per batch, and each job adds only its id and payload. Sent as one HSET per job in a
MULTI/EXEC pipeline, redis-py packed ~43 arguments and parsed one reply per job, which was most
of a bulk enqueue's Redis cost on the client. A script runs atomically, as MULTI/EXEC did.
"""

import zlib
from functools import cache

from rq import Queue
from rq.job import Job
from rq.utils import now, utcformat

from .queues import get_rq_queue

# A run id's shape: the prototype's data is split around it, and each run's id fills the gap.
_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"
_VARYING = ("data", "created_at", "enqueued_at")

# KEYS: the lanes (RQ queue keys) of the batch. ARGV[1]: RQ's job key prefix; ARGV[2]: the set of
# queue keys; ARGV[3]: the batch's timestamp (created_at and enqueued_at). Then one group per
# run of consecutive jobs of one prototype: the index of its lane in KEYS, the number of shared field arguments, those
# (name, value) arguments, the number of jobs, and each job's id and data. Every hash is
# written before any id reaches a lane, so a worker never pops an id without its hash.
PUSH_SCRIPT = """
local prefix, stamp = ARGV[1], ARGV[3]
local i = 4
local pushed = {}
while i <= #ARGV do
  local lane = KEYS[tonumber(ARGV[i])]
  local shared = tonumber(ARGV[i + 1])
  local fields = {}
  for j = 1, shared do fields[j] = ARGV[i + 1 + j] end
  i = i + 2 + shared
  fields[shared + 1], fields[shared + 2] = 'created_at', stamp
  fields[shared + 3], fields[shared + 4] = 'enqueued_at', stamp
  fields[shared + 5] = 'data'
  local jobs = tonumber(ARGV[i])
  local ids = pushed[lane] or {}
  pushed[lane] = ids
  for j = 1, jobs do
    fields[shared + 6] = ARGV[i + 2 * j]
    redis.call('HSET', prefix .. ARGV[i + 2 * j - 1], unpack(fields))
    ids[#ids + 1] = ARGV[i + 2 * j - 1]
  end
  i = i + 1 + 2 * jobs
end
for lane, ids in pairs(pushed) do
  redis.call('SADD', ARGV[2], lane)
  for start = 1, #ids, 1000 do  -- unpack() is bounded by Lua's C stack
    redis.call('RPUSH', lane, unpack(ids, start, math.min(start + 999, #ids)))
  end
end
return #KEYS
"""


@cache
def prototype(rq_queue_name, description, result_ttl, entrypoint):
    """(queue key, shared fields as flat name/value arguments, data before and after the run id)."""
    queue = get_rq_queue(rq_queue_name)
    job = queue.create_job(entrypoint, args=[_PLACEHOLDER], **job_options(_PLACEHOLDER, description, result_ttl))
    queue._prepare_for_queue(job)  # what enqueue_call does before it saves: origin, enqueued_at, status
    shared = [item for name, value in job.to_dict().items() if name not in _VARYING for item in (name, value)]
    before, after = job.data.split(_PLACEHOLDER.encode())
    return queue.key, shared, before, after


def job_options(run_id_and_dispatch, description, result_ttl):
    """RQ options of a run's job: ledger-enforced time limits, failures kept at least a day."""
    return {
        "job_id": run_id_and_dispatch,
        "timeout": -1,  # time limits are enforced by jobs.limits, not RQ's SIGALRM
        "result_ttl": result_ttl,
        "failure_ttl": max(result_ttl, 86400),
        "description": description,
    }


@cache
def _push_script(redis):
    return redis.register_script(PUSH_SCRIPT)


def push_queued(redis, runs, entrypoint):
    """Write the RQ jobs of `runs` and append them to their lanes in order: one round trip (raises RedisError)."""
    groups = []  # consecutive runs of one prototype: the lanes keep the runs' order
    for run in runs:
        key = (run.rq_queue_name, run.task_path, run.result_ttl)
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(run)
    lanes, args = [], [Job.redis_job_namespace_prefix, Queue.redis_queues_keys, utcformat(now())]
    for (rq_queue_name, task_path, result_ttl), members in groups:
        queue_key, shared, before, after = prototype(rq_queue_name, task_path, result_ttl, entrypoint)
        if queue_key not in lanes:
            lanes.append(queue_key)
        args += [lanes.index(queue_key) + 1, len(shared), *shared, len(members)]
        for run in members:
            args += [run.rq_job_id, zlib.compress(before + str(run.pk).encode() + after)]
    _push_script(redis)(keys=lanes, args=args)
