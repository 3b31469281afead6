"""Save one Bot API Update: validate it, store it idempotently, score it after the commit."""

from django.db import transaction

from ..models import ChatSource
from ..telegram import parse_update
from .storing import Outcome, RowCache, store_records


def save_telegram_message(bot, update):
    """Store the update's message for the bot's workspace; return (outcome, message id).

    Raises InvalidTelegramData for an update that is not one. A redelivered update is a
    duplicate and creates nothing; an edit updates the row and is scored again.
    """
    from ..tasks import score_message  # noqa: PLC0415 - tasks import the services

    _, record = parse_update(update)
    with transaction.atomic():
        [(_, outcome, message_id)] = store_records([record], RowCache(bot.workspace, ChatSource.BOT))
        if outcome in (Outcome.CREATED, Outcome.UPDATED):
            score_message.enqueue(message_id)  # dispatched when this transaction commits
    return outcome, message_id
