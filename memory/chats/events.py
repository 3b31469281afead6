"""Domain events (message_scored, analysis.batch_completed, ...) on the job platform's live channel.

They travel with the run events: to the running job's group (`ws/runs/<id>/`), to the dashboard
group (`ws/dashboard/`) and, for an event about one chat, to that chat's group (`ws/chats/<id>/`,
which members may follow), through jobs.live's publisher, so pages need no second WebSocket stack.
"""

import time

from jobs.context import current_run
from jobs.live import DASHBOARD_GROUP, publisher, run_group


def chat_group(chat_id):
    """The channel-layer group of one chat's events (ws/chats/<id>/)."""
    return f"chat-{int(chat_id)}"


def publish(event_type, extra_groups=(), **fields):
    """Send one event to the current run's watchers, the dashboard and `extra_groups`; never raises."""
    run = current_run.get()
    groups = [DASHBOARD_GROUP, *extra_groups]
    if fields.get("chat_id") is not None:
        groups.append(chat_group(fields["chat_id"]))
    if run is not None:
        groups.append(run_group(run.pk))
        fields.setdefault("run_id", str(run.pk))
    publisher.send(tuple(groups), {"type": event_type, **fields, "at": time.time()})
