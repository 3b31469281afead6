"""Post stage events on the live channel: the dashboard (operators) and the post's workspace group (ws/posts/)."""

from memory.core import live


def posts_group(workspace_id):
    """The channel-layer group of one workspace's post events (members follow it on ws/posts/)."""
    return f"posts-{int(workspace_id)}"


def publish_post(post, event_type, **fields):
    """Tell the posts page a post reached a stage; never raises."""
    live.publish(event_type, extra_groups=(posts_group(post.workspace_id),), post_id=post.pk,
                 workspace_id=post.workspace_id, channel=post.channel, stage=post.stage, **fields)
