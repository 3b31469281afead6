"""A chat's events (message_scored, knowledge.extraction_completed, ...) on the live channel.

memory.core.live sends them to the dashboard and the current run's watchers; an event about one chat
also goes to that chat's group (`ws/chats/<id>/`, which its workspace's members may follow).
"""

from memory.core import live


def chat_group(chat_id):
    """The channel-layer group of one chat's events (ws/chats/<id>/)."""
    return f"chat-{int(chat_id)}"


def publish(event_type, **fields):
    """Send one chat event; with a chat_id, the chat's followers hear it too. Never raises."""
    chat_id = fields.get("chat_id")
    live.publish(event_type, extra_groups=() if chat_id is None else (chat_group(chat_id),), **fields)
