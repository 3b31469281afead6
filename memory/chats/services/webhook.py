"""Save one Bot API Update: validate it, store it idempotently, score it after the commit."""

from django.db import transaction

from ..models import Author, ChatSource
from ..telegram import parse_update
from .storing import Outcome, RowCache, store_records


def save_telegram_message(bot, update):
    """Store the update's message for the bot's workspace; return (outcome, message id).

    Raises InvalidTelegramData for an update that is not one. A redelivered update is a
    duplicate and creates nothing; an edit updates the row and is scored again.
    """
    from ..tasks import cache_author_avatar, score_message  # noqa: PLC0415 - tasks import the services

    _, record = parse_update(update)
    cache = RowCache(bot.workspace, ChatSource.BOT)
    with transaction.atomic():
        [(_, outcome, message_id)] = store_records([record], cache)
        if outcome in (Outcome.CREATED, Outcome.UPDATED):
            score_message.enqueue(message_id)  # dispatched when this transaction commits
        # Users have positive ids; a channel posting as itself has no profile photos to ask for.
        author_id = cache.authors.get(record.author.telegram_id) if record.author and record.author.telegram_id > 0 \
            else None
        # A new author's photo, once: with a token the bot may call getUserProfilePhotos.
        if bot.token and author_id and Author.objects.filter(pk=author_id, avatar_checked_at__isnull=True).exists():
            cache_author_avatar.enqueue(author_id)
    return outcome, message_id
