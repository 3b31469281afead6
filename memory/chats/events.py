"""Domain events (message_scored, analysis.batch_completed, ...) on the job platform's live channel.

They travel with the run events: to the running job's group (`ws/runs/<id>/`) and to the dashboard
group (`ws/dashboard/`), through jobs.live's publisher, so pages need no second WebSocket stack.
"""

import time

from jobs.context import current_run
from jobs.live import DASHBOARD_GROUP, publisher, run_group


def publish(event_type, **fields):
    """Send one event to the current run's watchers and the dashboard; never raises."""
    run = current_run.get()
    groups = [DASHBOARD_GROUP]
    if run is not None:
        groups.append(run_group(run.pk))
        fields.setdefault("run_id", str(run.pk))
    publisher.send(tuple(groups), {"type": event_type, **fields, "at": time.time()})
