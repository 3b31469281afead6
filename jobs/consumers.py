"""WebSocket consumers for live progress: one run (`ws/runs/<id>/`) or the dashboard (`ws/dashboard/`)."""

import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import DASHBOARD_GROUP, describe_run, queue_depths, run_group

logger = logging.getLogger("jobs.consumers")

# Close codes from the range RFC 6455 leaves to applications, echoing HTTP's 401, 403 and 404.
NOT_AUTHENTICATED = 4401
NOT_ALLOWED = 4403
UNKNOWN_RUN = 4404
# RFC 6455's "message too big". Clients have nothing to say on a one-way stream; a large frame is
# refused at once rather than buffered, and the socket is closed with this code.
MESSAGE_TOO_BIG = 1009
MAX_FRAME_BYTES = 4096
VIEW_PERMISSION = "jobs.view_jobrun"
# Runs listed in the dashboard's first message; later ones arrive as events.
DASHBOARD_SNAPSHOT_RUNS = 50


# Apps that own rows worked on by runs (an import, an analysis) let their users watch those runs
# without the operators' permission: each rule is `rule(user, run_id) -> bool`.
_run_watch_rules = []


def register_run_watch_rule(rule):
    """Let `rule(user, run_id)` grant watching one run (called from an app's ready())."""
    if rule not in _run_watch_rules:
        _run_watch_rules.append(rule)


def may_watch_runs(user):
    """Tell whether a user may watch runs: active staff (as for the admin) with the view permission."""
    return user.is_active and user.is_staff and user.has_perm(VIEW_PERMISSION)


def may_watch_run(user, run_id):
    """Tell whether a user may watch this run: an operator, or a registered rule says so."""
    return may_watch_runs(user) or (user.is_active and any(rule(user, str(run_id)) for rule in _run_watch_rules))


def run_snapshot(run_id):
    """The run's state from the ledger, or None if there is no such run."""
    from .models import JobRun

    run = JobRun.objects.filter(pk=run_id).first()
    return None if run is None else {"type": "run.snapshot", **describe_run(run), "at": time.time()}


def dashboard_snapshot():
    """The running runs from the ledger and the queue depths from Redis."""
    from .models import JobRun

    runs = [describe_run(run) for run in JobRun.objects.running()[:DASHBOARD_SNAPSHOT_RUNS]]
    try:
        depths = queue_depths()
    except Exception:  # noqa: BLE001 - the runs are still worth showing without Redis
        logger.warning("dashboard: cannot read the queue depths", exc_info=True)
        depths = None
    return {"type": "dashboard.snapshot", "runs": runs, "queues": depths, "at": time.time()}


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """Let authorised users in, then forward the channel layer's events; clients only listen.

    The access check is allowed() and nothing else: it runs once, in a database thread, before
    start(), and a refusal closes with `refused_code`.
    """

    # A stream of one object whose unknown and foreign ids must look alike (a chat) refuses with
    # UNKNOWN_RUN instead, so the close code tells nothing about another workspace.
    refused_code = NOT_ALLOWED

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self.refuse(NOT_AUTHENTICATED)
        if not await database_sync_to_async(self.allowed)(user):
            return await self.refuse(self.refused_code)
        await self.start()

    def allowed(self, user):
        """Tell whether `user` may follow this stream (runs: operators only); synchronous, may query."""
        return may_watch_runs(user)

    async def start(self):
        """Join the stream's group, accept and send the snapshot."""
        raise NotImplementedError

    async def join(self, group):
        """Join a group before reading a snapshot: events sent meanwhile queue up, none are lost."""
        await self.channel_layer.group_add(group, self.channel_name)
        # Listed for the base class to leave on disconnect. Not a class attribute: the base class
        # joins those before connect(), that is before the checks.
        self.groups = [*self.groups, group]

    async def refuse(self, code):
        # Accept, then close: a browser sees a handshake refused before accept as a bare 1006,
        # without the code telling it why.
        await self.accept()
        await self.close(code=code)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Ignore what clients send, undecoded (the stream is one-way); close on an oversized frame."""
        size = len(bytes_data) if bytes_data is not None else len((text_data or "").encode("utf-8", "surrogatepass"))
        if size > MAX_FRAME_BYTES:
            logger.info("closing a live socket after a %d-byte frame from the client", size)
            await self.close(code=MESSAGE_TOO_BIG)

    async def live_events(self, message):
        """Forward a batch from jobs.live, one WebSocket message per event."""
        for event in message["events"]:
            await self.send_json(event)


class RunConsumer(LiveConsumer):
    """Stream one run: a snapshot from the ledger, then its live events."""

    def allowed(self, user):
        return may_watch_run(user, self.scope["url_route"]["kwargs"]["run_id"])

    async def start(self):
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        await self.join(run_group(run_id))
        snapshot = await database_sync_to_async(run_snapshot)(run_id)
        if snapshot is None:
            return await self.refuse(UNKNOWN_RUN)
        await self.accept()
        await self.send_json(snapshot)


class DashboardConsumer(LiveConsumer):
    """Stream every run's events and the queue depths, after a snapshot of the running runs."""

    async def start(self):
        await self.join(DASHBOARD_GROUP)
        snapshot = await database_sync_to_async(dashboard_snapshot)()
        await self.accept()
        await self.send_json(snapshot)
