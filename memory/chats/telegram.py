"""Telegram's shapes -> one plain record: Bot API Updates and Desktop export messages.

Nothing here touches the database; every problem is an InvalidTelegramData with a reason a person
can act on (it becomes the webhook's 400 body or the import's error).
"""

import datetime as dt
from dataclasses import dataclass, field

# Bot API ids of supergroups and channels are -100 followed by the id an export shows bare.
SUPERGROUP_ID_OFFSET = 1_000_000_000_000
# A Bot API message holds at most 4,096 characters (captions 1,024); exports of long posts are longer.
MAX_TEXT_CHARS = 100_000
UPDATE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")
BOT_MEDIA_FIELDS = ("photo", "video", "animation", "audio", "voice", "video_note", "document", "sticker",
                    "contact", "location", "venue", "poll", "dice", "story")
BOT_SERVICE_FIELDS = ("new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
                      "delete_chat_photo", "group_chat_created", "supergroup_chat_created", "channel_chat_created",
                      "pinned_message", "migrate_to_chat_id", "migrate_from_chat_id", "forum_topic_created",
                      "video_chat_started", "video_chat_ended", "message_auto_delete_timer_changed")
EXPORT_CHAT_TYPES = {
    "personal_chat": "private", "bot_chat": "private", "saved_messages": "private",
    "private_group": "group", "public_supergroup": "supergroup", "private_supergroup": "supergroup",
    "public_channel": "channel", "private_channel": "channel",
}


class InvalidTelegramData(ValueError):
    """Input that is not the Telegram shape it claims to be."""


@dataclass
class ChatRecord:
    telegram_id: int
    title: str
    type: str


@dataclass
class AuthorRecord:
    telegram_id: int
    first_name: str = ""
    last_name: str = ""
    username: str = ""


@dataclass
class MessageRecord:
    chat: ChatRecord
    telegram_id: int
    sent_at: dt.datetime
    author: AuthorRecord | None = None
    edited_at: dt.datetime | None = None
    text: str = ""
    entities: list = field(default_factory=list)
    reply_to: int | None = None
    forwarded_from: str = ""
    media_type: str = ""
    service_action: str = ""
    # A Bot API edited_message/edited_channel_post: an update of a message we may already hold.
    is_edit: bool = False

    @property
    def is_service(self):
        return bool(self.service_action)


def bot_api_chat_id(export_id, export_type):
    """The Bot API id of an export's chat: -100<id> for supergroups and channels, -<id> for groups."""
    chat_type = EXPORT_CHAT_TYPES.get(export_type, "group")
    if export_id < 0:
        return export_id  # already in Bot API form
    if chat_type in ("supergroup", "channel"):
        return -(SUPERGROUP_ID_OFFSET + export_id)
    if chat_type == "group":
        return -export_id
    return export_id


def _int(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise InvalidTelegramData(f"{what} must be an integer, got {type(value).__name__}")
    return value


def _str(value, what, limit=255):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidTelegramData(f"{what} must be a string, got {type(value).__name__}")
    return value[:limit]


def _text(value, what):
    text = _str(value, what, limit=None)
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidTelegramData(f"{what} is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    return text


def _timestamp(value, what):
    seconds = _int(value, what)
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidTelegramData(f"{what} is not a valid Unix time: {seconds}") from None


def _dict(value, what):
    if not isinstance(value, dict):
        raise InvalidTelegramData(f"{what} must be an object, got {type(value).__name__}")
    return value


# --- Bot API ---------------------------------------------------------------------------------------

def parse_update(update):
    """Return (update_id, MessageRecord) from a Bot API Update, or raise InvalidTelegramData."""
    update = _dict(update, "the update")
    update_id = _int(update.get("update_id"), "update_id")
    kinds = [kind for kind in UPDATE_KINDS if kind in update]
    if not kinds:
        raise InvalidTelegramData(f"the update carries none of {', '.join(UPDATE_KINDS)}")
    kind = kinds[0]
    message = _dict(update[kind], kind)
    record = parse_bot_message(message)
    record.is_edit = kind.startswith("edited_")
    return update_id, record


def parse_bot_message(message):
    chat = _dict(message.get("chat"), "message.chat")
    chat_record = ChatRecord(
        telegram_id=_int(chat.get("id"), "chat.id"),
        title=_str(chat.get("title") or " ".join(filter(None, [chat.get("first_name"), chat.get("last_name")]))
                   or chat.get("username"), "chat.title"),
        type=_str(chat.get("type"), "chat.type", 12) or "group",
    )
    if chat_record.type not in ("private", "group", "supergroup", "channel"):
        raise InvalidTelegramData(f"chat.type {chat_record.type!r} is not a Telegram chat type")
    author = None
    sender = message.get("from")
    if sender is not None:
        sender = _dict(sender, "message.from")
        author = AuthorRecord(telegram_id=_int(sender.get("id"), "from.id"),
                              first_name=_str(sender.get("first_name"), "from.first_name"),
                              last_name=_str(sender.get("last_name"), "from.last_name"),
                              username=_str(sender.get("username"), "from.username"))
    elif message.get("sender_chat") is not None:
        sender = _dict(message["sender_chat"], "message.sender_chat")
        author = AuthorRecord(telegram_id=_int(sender.get("id"), "sender_chat.id"),
                              first_name=_str(sender.get("title"), "sender_chat.title"),
                              username=_str(sender.get("username"), "sender_chat.username"))
    text_key = "text" if "text" in message else "caption"
    text = _text(message.get(text_key), f"message.{text_key}")
    entities = message.get(f"{'entities' if text_key == 'text' else 'caption_entities'}") or []
    if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
        raise InvalidTelegramData("message entities must be a list of objects")
    reply = message.get("reply_to_message")
    service = next((name for name in BOT_SERVICE_FIELDS if name in message), "")
    return MessageRecord(
        chat=chat_record,
        telegram_id=_int(message.get("message_id"), "message_id"),
        sent_at=_timestamp(message.get("date"), "message.date"),
        author=author,
        edited_at=_timestamp(message["edit_date"], "edit_date") if message.get("edit_date") is not None else None,
        text="" if service else text,
        entities=[{k: e[k] for k in ("type", "offset", "length", "url", "language") if k in e} for e in entities],
        reply_to=_int(_dict(reply, "reply_to_message").get("message_id"), "reply_to_message.message_id")
        if reply is not None else None,
        forwarded_from=_forward_origin(message),
        media_type=next((name for name in BOT_MEDIA_FIELDS if name in message), ""),
        service_action=service,
    )


def _forward_origin(message):
    origin = message.get("forward_origin")
    if isinstance(origin, dict):
        user = origin.get("sender_user") or {}
        chat = origin.get("sender_chat") or origin.get("chat") or {}
        name = (" ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
                or origin.get("sender_user_name") or chat.get("title") or "")
        return _str(name, "forward_origin")
    legacy = message.get("forward_from") or message.get("forward_from_chat")
    if isinstance(legacy, dict):
        return _str(legacy.get("title") or legacy.get("first_name"), "forward_from")
    return _str(message.get("forward_sender_name"), "forward_sender_name")


# --- Desktop export --------------------------------------------------------------------------------

def export_text(value):
    """Plain text and Bot-API-style entities from an export's `text`: a string or a list of parts."""
    if isinstance(value, str):
        return _text(value, "text"), []
    if not isinstance(value, list):
        raise InvalidTelegramData(f"text must be a string or a list, got {type(value).__name__}")
    parts, entities, offset = [], [], 0
    for part in value:
        if isinstance(part, str):
            chunk = part
        elif isinstance(part, dict) and isinstance(part.get("text", ""), str):
            chunk = part.get("text", "")
            entity = {"type": str(part.get("type", "plain")), "offset": offset, "length": _utf16_len(chunk)}
            if isinstance(part.get("href"), str):
                entity["url"] = part["href"]
            if entity["type"] != "plain":
                entities.append(entity)
        else:
            raise InvalidTelegramData("text parts must be strings or {type, text} objects")
        parts.append(chunk)
        offset += _utf16_len(chunk)
    return _text("".join(parts), "text"), entities


def _utf16_len(text):
    # Telegram counts entity offsets in UTF-16 code units, as the Bot API does.
    return len(text.encode("utf-16-le")) // 2


def _export_time(message, key):
    unix = message.get(f"{key}_unixtime")
    if unix is not None:
        return _timestamp(unix, f"{key}_unixtime")
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidTelegramData(f"{key} must be a string, got {type(value).__name__}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidTelegramData(f"{key} {value[:40]!r} is not an ISO date") from None
    # Desktop writes local time without an offset; without date_unixtime, UTC is the best guess.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _export_author(name, from_id):
    if from_id is None:
        return None
    from_id = _str(from_id, "from_id")
    digits = from_id.lstrip("abcdefghijklmnopqrstuvwxyz")
    if not digits.lstrip("-").isdigit():
        raise InvalidTelegramData(f"from_id {from_id[:40]!r} is not user<id> or channel<id>")
    telegram_id = int(digits)
    if from_id.startswith("channel"):
        telegram_id = -(SUPERGROUP_ID_OFFSET + telegram_id)
    return AuthorRecord(telegram_id=telegram_id, first_name=_str(name, "from"))


def parse_export_message(message, chat):
    """A MessageRecord from one entry of an export's `messages` list."""
    message = _dict(message, "message")
    kind = message.get("type", "message")
    if kind not in ("message", "service"):
        raise InvalidTelegramData(f"message type {str(kind)[:20]!r} is neither message nor service")
    sent_at = _export_time(message, "date")
    if sent_at is None:
        raise InvalidTelegramData("the message has no date")
    if kind == "service":
        author = _export_author(message.get("actor"), message.get("actor_id"))
        text, entities = "", []
        action = _str(message.get("action"), "action", 60) or "service"
    else:
        author = _export_author(message.get("from"), message.get("from_id"))
        text, entities = export_text(message.get("text", ""))
        action = ""
    media = message.get("media_type") or ("photo" if "photo" in message else "file" if "file" in message else "")
    return MessageRecord(
        chat=chat,
        telegram_id=_int(message.get("id"), "id"),
        sent_at=sent_at,
        author=author,
        edited_at=_export_time(message, "edited"),
        text=text,
        entities=entities,
        reply_to=_int(message["reply_to_message_id"], "reply_to_message_id")
        if message.get("reply_to_message_id") is not None else None,
        forwarded_from=_str(message.get("forwarded_from"), "forwarded_from"),
        media_type=_str(media, "media_type", 40),
        service_action=action,
    )


def export_chat(export_id, export_type, name):
    if export_id is None:
        raise InvalidTelegramData("the chat has no id before its messages")
    return ChatRecord(telegram_id=bot_api_chat_id(_int(export_id, "chat id"), export_type),
                      title=_str(name, "chat name"), type=EXPORT_CHAT_TYPES.get(export_type, "group"))
