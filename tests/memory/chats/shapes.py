"""Telegram's real shapes: Bot API Update objects and Telegram Desktop export files."""

import datetime as dt
import json

BASE_UNIX = 1_764_000_000  # 2025-11-24, a plain second


def bot_user(user_id=111, first="Alice", last="Chen", username="alice"):
    return {"id": user_id, "is_bot": False, "first_name": first, "last_name": last, "username": username,
            "language_code": "en"}


def bot_update(update_id, message_id, text="We need to fix the backup job before Friday?", *, chat_id=-1001234567890,
               chat_type="supergroup", title="Platform team", sender=None, date=BASE_UNIX, kind="message", **extra):
    message = {
        "message_id": message_id,
        "from": sender or bot_user(),
        "chat": {"id": chat_id, "title": title, "type": chat_type},
        "date": date,
        "text": text,
        **extra,
    }
    if kind.startswith("edited_"):
        message.setdefault("edit_date", date + 60)
    if kind.endswith("channel_post"):
        message.pop("from")
        message["sender_chat"] = {"id": chat_id, "title": title, "type": "channel"}
        message["chat"]["type"] = "channel"
    return {"update_id": update_id, kind: message}


def export_message(message_id, text, *, sender="Alice Chen", sender_id="user111", unix=BASE_UNIX, **extra):
    moment = dt.datetime.fromtimestamp(unix, tz=dt.UTC)
    return {"id": message_id, "type": "message", "date": moment.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(unix), "from": sender, "from_id": sender_id, "text": text,
            "text_entities": [], **extra}


def service_message(message_id, action="invite_members", *, actor="Alice Chen", actor_id="user111", unix=BASE_UNIX):
    moment = dt.datetime.fromtimestamp(unix, tz=dt.UTC)
    return {"id": message_id, "type": "service", "date": moment.strftime("%Y-%m-%dT%H:%M:%S"),
            "date_unixtime": str(unix), "actor": actor, "actor_id": actor_id, "action": action,
            "members": ["Bob Martin"], "text": "", "text_entities": []}


def sample_messages():
    """A small chat with every shape an export has."""
    return [
        service_message(1, "create_group", unix=BASE_UNIX - 3600),
        export_message(2, "Morning! The nightly backup of the billing database failed again, the disk is full."),
        export_message(3, ["See ", {"type": "link", "text": "https://status.example.com"}, " and ask ",
                           {"type": "mention", "text": "@bob"}, " about the alert?"],
                       sender="Bob Martin", sender_id="user222", unix=BASE_UNIX + 60, reply_to_message_id=2),
        export_message(4, "", unix=BASE_UNIX + 120, media_type="sticker", file="stickers/sticker.webp",
                       sticker_emoji="👍"),
        export_message(5, "We decided to move the backups to object storage.", unix=BASE_UNIX + 180,
                       edited="2025-11-24T16:05:00", edited_unixtime=str(BASE_UNIX + 300)),
        export_message(6, "Forwarding the vendor's answer: storage is 2 cents per GB.", unix=BASE_UNIX + 240,
                       forwarded_from="Storage Vendor"),
        export_message(7, "ok", sender="Bob Martin", sender_id="user222", unix=BASE_UNIX + 250),
    ]


def single_chat_export(messages=None, chat_id=1234567890, name="Platform team", chat_type="private_supergroup"):
    return {"name": name, "type": chat_type, "id": chat_id, "messages": sample_messages() if messages is None else messages}


def full_export(chats):
    return {"about": "Here is the data you requested.", "personal_information": {"user_id": 111},
            "chats": {"about": "This page lists all chats from this export.", "list": chats}}


def write_export(path, data):
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
