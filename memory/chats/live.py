"""Live streams for members: a chat's events (`ws/chats/<id>/`) and the runs behind their own rows.

The job platform's streams are for operators; a workspace member follows only what the workspace
rule (visible_to) lets them read, so a member of one workspace never receives another's events.
"""

import time

from jobs.consumers import UNKNOWN_RUN, LiveConsumer

from .events import chat_group
from .models import AnalysisRun, Chat, ClassificationExperiment, MessageIngestionJob

TRACKED_ROWS = (MessageIngestionJob, AnalysisRun, ClassificationExperiment)


def may_watch_own_run(user, run_id):
    """A run that works on an import, analysis or experiment the user may read (a jobs watch rule)."""
    return any(model.objects.visible_to(user).filter(run_id=run_id).exists() for model in TRACKED_ROWS)


class ChatConsumer(LiveConsumer):
    """Stream one chat's events (messages scored, knowledge extracted) to those who may read it."""

    # An unknown chat and another workspace's chat both answer "unknown".
    refused_code = UNKNOWN_RUN

    def allowed(self, user):
        return Chat.objects.visible_to(user).filter(pk=self.scope["url_route"]["kwargs"]["chat_id"]).exists()

    async def start(self):
        chat_id = self.scope["url_route"]["kwargs"]["chat_id"]
        await self.join(chat_group(chat_id))
        await self.accept()
        await self.send_json({"type": "chat.snapshot", "chat_id": chat_id, "at": time.time()})
