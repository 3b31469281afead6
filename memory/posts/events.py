"""Post stage events on the job platform's live channel (the dashboard group the posts page listens to)."""

from memory.chats import events as live


def publish_post(post, event_type, **fields):
    """Tell the posts page a post reached a stage; never raises."""
    live.publish(event_type, post_id=post.pk, workspace_id=post.workspace_id, channel=post.channel,
                 stage=post.stage, **fields)
