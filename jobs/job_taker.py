"""Take the next RQ job off a worker's lanes in one Redis round trip (the worker's fast path).

A run's RQ job (jobs.runner.execute with the run id) is only transport: the ledger is the
truth, so RQ's per-job machinery (Job.fetch, its two preparation pipelines, the started
registry, executions, the result and its success pipeline) repeats what the ledger records.
One Lua script instead pops the first job of the highest non-empty lane, reads its payload,
marks its hash "started" by this worker (the reconciler reads that to tell a job a live worker
holds from one a dead worker popped), sets the worker's RQ state, and deletes the hash of the
worker's previous job, whose outcome is already in the ledger (a killed worker's last one
expires after the job's failure TTL, a day by default). A deep queue costs one round
trip per job; an idle worker blocks in BLPOP and then takes what it popped with the script.
"""

import json
import zlib
from dataclasses import dataclass

from rq.job import Job

from .dispatch import ENTRYPOINT

# KEYS[1]: the worker's RQ key; KEYS[2..]: its lanes, highest first.
# ARGV[1]: RQ's job key prefix; ARGV[2]: the worker's name; ARGV[3]/ARGV[4]: a job id BLPOP
# already popped and its lane ('' to pop here); ARGV[5]: the worker's previous job id, or ''.
# A job whose hash is gone (deleted, expired) is returned without a payload and left alone.
TAKE_SCRIPT = """
if ARGV[5] ~= '' then redis.call('DEL', ARGV[1] .. ARGV[5]) end
local id, lane = ARGV[3], ARGV[4]
if id == '' then
  id = false
  for i = 2, #KEYS do
    id = redis.call('LPOP', KEYS[i])
    if id then lane = KEYS[i]; break end
  end
  if not id then
    redis.call('HSET', KEYS[1], 'state', 'idle')
    return false
  end
end
local key = ARGV[1] .. id
local fields = redis.call('HMGET', key, 'data', 'failure_ttl')
local data = fields[1]
if not data then return {lane, id} end
redis.call('HSET', key, 'status', 'started', 'worker_name', ARGV[2])
local ttl = tonumber(fields[2])
if ttl and ttl > 0 then redis.call('EXPIRE', key, ttl) end
redis.call('HSET', KEYS[1], 'state', 'busy')
return {lane, id, data}
"""


@dataclass(frozen=True, slots=True)
class TakenRun:
    """A run's RQ job, taken off its lane and marked started; the worker runs the run directly."""

    id: str  # the RQ job id
    run_id: str


class JobTaker:
    """The worker's one-round-trip dequeue; any job that is not a run's goes back to RQ's path."""

    def __init__(self, connection, worker_key, worker_name, serializer):
        self.connection = connection
        self.worker_key, self.worker_name = worker_key, worker_name
        self.serializer = serializer
        self._script = connection.register_script(TAKE_SCRIPT)

    def take(self, queues, finished_job_id=None, popped=None):
        """Pop from `queues` (or take the job BLPOP `popped`); delete the finished job's hash.

        Return (TakenRun or an RQ Job, its queue), False for a popped job whose hash is gone, or
        None when every lane is empty.
        """
        lane, job_id = popped if popped else ("", "")
        reply = self._script(
            keys=[self.worker_key, *(queue.key for queue in queues)],
            args=[Job.redis_job_namespace_prefix, self.worker_name, job_id, lane, finished_job_id or ""],
        )
        if reply is None:
            return None
        if len(reply) < 3:
            return False
        lane, job_id, data = reply[0].decode(), reply[1].decode(), reply[2]
        queue = next(q for q in queues if q.key == lane)
        run_id = run_id_in(data)
        if run_id is not None:
            return TakenRun(job_id, run_id), queue
        # Not a run's job (a plain RQ job on an Engram lane): RQ's own machinery runs it.
        return Job.fetch(job_id, connection=self.connection, serializer=self.serializer), queue


def run_id_in(data):
    """The run id if `data` (an RQ job's stored payload) calls jobs.runner.execute, else None."""
    try:
        data = zlib.decompress(data)
    except zlib.error:
        pass  # RQ stores it uncompressed when compression failed
    try:
        func_name, instance, args, kwargs = json.loads(data)
    except (ValueError, TypeError):  # not a JSON payload: RQ's own path reports it
        return None
    if func_name != ENTRYPOINT or instance is not None or kwargs or len(args) != 1 or not isinstance(args[0], str):
        return None
    return args[0]
