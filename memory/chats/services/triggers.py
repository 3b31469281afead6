"""When enough of a chat is new and unread by knowledge extraction, extraction should run for it."""

import datetime as dt

from django.utils import timezone

from ..models import Message

EXTRACTION_THRESHOLD = 10
EXTRACTION_WINDOW = dt.timedelta(hours=24)
MAX_IDS = 500


def messages_awaiting_extraction(chat_id, now=None):
    """Ids of the chat's recent messages without a topic that extraction has not read yet, when there
    are at least EXTRACTION_THRESHOLD of them; else []."""
    since = (now or timezone.now()) - EXTRACTION_WINDOW
    ids = list(Message.objects.awaiting_extraction().filter(chat_id=chat_id, topic__isnull=True, created_at__gte=since)
               .exclude(text="").order_by("pk").values_list("pk", flat=True)[:MAX_IDS])
    return ids if len(ids) >= EXTRACTION_THRESHOLD else []
