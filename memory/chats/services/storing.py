"""Store Telegram message records idempotently: one row per (chat, message id), edits in place."""

import json

from django.db import IntegrityError, connection, transaction
from django.db.models import F, JSONField

from ..models import Author, Chat, Message

COPY_THRESHOLD = 50
# Fields an edit may change; a redelivery that changes none of them is a duplicate.
EDITABLE_FIELDS = ("text", "entities", "edited_at", "media_type", "forwarded_from", "reply_to", "service_action")


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    SKIPPED_SERVICE = "skipped_service"
    SKIPPED_MEDIA = "skipped_media"


class RowCache:
    """Chat and author ids seen during one import or request (an export has a handful of each)."""

    def __init__(self, workspace, source):
        self.workspace, self.source = workspace, source
        self.chats, self.authors = {}, {}

    def chat_id(self, record):
        key = record.telegram_id
        if key not in self.chats:
            chat, created = Chat.objects.get_or_create(
                workspace=self.workspace, telegram_id=key,
                defaults={"title": record.title, "type": record.type, "source": self.source})
            if not created and record.title and (chat.title, chat.type) != (record.title, record.type):
                chat.title, chat.type = record.title, record.type
                chat.save(update_fields=["title", "type"])
            self.chats[key] = chat.pk
        return self.chats[key]

    def author_id(self, record):
        if record is None:
            return None
        key = record.telegram_id
        if key not in self.authors:
            defaults = {"first_name": record.first_name, "last_name": record.last_name, "username": record.username}
            author, created = Author.objects.get_or_create(workspace=self.workspace, telegram_id=key,
                                                           defaults=defaults)
            changed = {k: v for k, v in defaults.items() if v and getattr(author, k) != v}
            if not created and changed:
                Author.objects.filter(pk=author.pk).update(**changed)
            self.authors[key] = author.pk
        return self.authors[key]


def _row_values(record, chat_id, author_id):
    return {
        "chat_id": chat_id, "telegram_id": record.telegram_id, "author_id": author_id, "sent_at": record.sent_at,
        "edited_at": record.edited_at, "text": record.text, "entities": record.entities,
        "reply_to": record.reply_to, "forwarded_from": record.forwarded_from, "media_type": record.media_type,
        "service_action": record.service_action,
    }


def _new_outcome(record):
    if record.is_service:
        return Outcome.SKIPPED_SERVICE
    if record.media_type and not record.text:
        return Outcome.SKIPPED_MEDIA
    return Outcome.CREATED


def store_records(records, cache):
    """Store a batch in one transaction; return [(record, outcome, message id)] in input order.

    A record already stored with the same content is a duplicate (a redelivered update, a second
    import); one whose content differs updates the row in place (an edit), and its score is cleared
    so the scorer reads the new text.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _store(records, cache)
        except IntegrityError:
            # A concurrent writer (the webhook while an import runs) inserted one of our rows
            # between our read and our insert; the second pass sees it and updates instead.
            if attempt:
                raise
    return []  # unreachable


def copy_messages(messages):
    """Insert new messages with COPY and set their primary keys.

    bulk_create spent 2 ms a row here (Django's per-field preparation plus a multi-row INSERT);
    COPY takes a tenth of that, which is most of an import's time.
    """
    if len(messages) < COPY_THRESHOLD:
        Message.objects.bulk_create(messages)  # one row (the webhook): a plain INSERT .. RETURNING is quicker
        return
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {Message._meta.db_table} ({columns}) FROM STDIN") as copy:
            for message in messages:
                copy.write_row([json.dumps(getattr(message, f.attname)) if isinstance(f, JSONField)
                                else getattr(message, f.attname) for f in fields])
    by_chat = {}
    for message in messages:
        by_chat.setdefault(message.chat_id, {})[message.telegram_id] = message
    for chat_id, chat_messages in by_chat.items():
        for telegram_id, pk in Message.objects.filter(chat_id=chat_id, telegram_id__in=list(chat_messages)) \
                .values_list("telegram_id", "pk"):
            chat_messages[telegram_id].pk = pk


def _store(records, cache):
    rows = {}
    for record in records:
        values = _row_values(record, cache.chat_id(record.chat), cache.author_id(record.author))
        key = (values["chat_id"], record.telegram_id)
        previous = rows.get(key)
        # The same message twice in one batch: keep the later edit.
        if previous is None or (values["edited_at"] or values["sent_at"]) >= (
                previous[1]["edited_at"] or previous[1]["sent_at"]):
            rows[key] = (record, values)
    existing = {}
    chat_ids = {chat_id for chat_id, _ in rows}
    for chat_id in chat_ids:
        ids = [telegram_id for c, telegram_id in rows if c == chat_id]
        for message in Message.objects.filter(chat_id=chat_id, telegram_id__in=ids).only(
                "pk", "chat_id", "telegram_id", "author_id", *EDITABLE_FIELDS):
            existing[(chat_id, message.telegram_id)] = message
    new, changed, outcomes = [], [], {}
    for key, (record, values) in rows.items():
        message = existing.get(key)
        if message is None:
            new.append(Message(**values))
            outcomes[key] = _new_outcome(record)
        elif any(getattr(message, name) != values[name] for name in EDITABLE_FIELDS):
            for name in EDITABLE_FIELDS:
                setattr(message, name, values[name])
            message.importance_score, message.noise_class = None, ""
            changed.append(message)
            outcomes[key] = Outcome.UPDATED
        else:
            outcomes[key] = Outcome.DUPLICATE
    copy_messages(new)
    if changed:
        Message.objects.bulk_update(changed, [*EDITABLE_FIELDS, "importance_score", "noise_class"], batch_size=500)
    per_author = {}
    for message in new:
        if message.author_id:
            per_author[message.author_id] = per_author.get(message.author_id, 0) + 1
    for author_id, count in per_author.items():
        Author.objects.filter(pk=author_id).update(message_count=F("message_count") + count)
    ids = {(m.chat_id, m.telegram_id): m.pk for m in [*new, *changed]}
    ids.update({key: m.pk for key, m in existing.items()})
    result = []
    seen = set()
    for record in records:
        key = (cache.chat_id(record.chat), record.telegram_id)
        # A message repeated inside the batch: its first copy carries the outcome, the rest are duplicates.
        outcome = Outcome.DUPLICATE if key in seen else outcomes[key]
        seen.add(key)
        result.append((record, outcome, ids[key]))
    return result
