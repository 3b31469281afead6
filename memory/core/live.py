"""Domain events (message_scored, posts.tagged, analysis.batch_completed, ...) on the job platform's live channel.

Every event goes to the dashboard group (`ws/dashboard/`, operators) and, when a run sends it, to
that run's group (`ws/runs/<id>/`); each capability adds the groups its members follow (a chat's
`ws/chats/<id>/`, a workspace's `ws/posts/`). One publisher (jobs.live's) carries them all, so pages
need no second WebSocket stack.
"""

import time

from jobs.context import current_run
from jobs.live import DASHBOARD_GROUP, publisher, run_group


def publish(event_type, extra_groups=(), **fields):
    """Send one event {type, **fields, run_id?, at} to the dashboard, the current run's watchers and
    `extra_groups`; never raises."""
    run = current_run.get()
    groups = [DASHBOARD_GROUP, *extra_groups]
    if run is not None:
        groups.append(run_group(run.pk))
        fields.setdefault("run_id", str(run.pk))
    publisher.send(tuple(groups), {"type": event_type, **fields, "at": time.time()})
