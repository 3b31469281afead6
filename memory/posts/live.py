"""ws/posts/: the post events of every workspace the user may read, for the posts page."""

import time

from jobs.consumers import LiveConsumer
from memory.core.tenancy import Workspace

from .events import posts_group


class PostsConsumer(LiveConsumer):
    """Stream post stage events of the user's workspaces (the workspace rule; nothing of others)."""

    def allowed(self, user):
        """Any signed-in user, who follows exactly the workspaces they may read (read here, once)."""
        self.workspaces = list(Workspace.objects.visible_to(user).values_list("pk", flat=True))
        return True

    async def start(self):
        workspaces = self.workspaces
        for workspace_id in workspaces:
            await self.join(posts_group(workspace_id))
        await self.accept()
        await self.send_json({"type": "posts.snapshot", "workspaces": workspaces, "at": time.time()})
