"""ws/posts/: the post events of every workspace the user may read, for the posts page."""

import time

from channels.db import database_sync_to_async

from jobs.consumers import LiveConsumer
from memory.core.tenancy import Workspace

from .events import posts_group


class PostsConsumer(LiveConsumer):
    """Stream post stage events of the user's workspaces (the workspace rule; nothing of others)."""

    def allowed(self, user):
        return True  # what they may read is decided in start(): their workspaces' groups only

    async def start(self):
        user = self.scope["user"]
        workspaces = await database_sync_to_async(
            lambda: list(Workspace.objects.visible_to(user).values_list("pk", flat=True)))()
        for workspace_id in workspaces:
            await self.join(posts_group(workspace_id))
        await self.accept()
        await self.send_json({"type": "posts.snapshot", "workspaces": workspaces, "at": time.time()})
