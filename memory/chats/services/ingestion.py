"""Import a Telegram Desktop export, streamed with ijson in constant memory.

Both shapes are read: a single chat's result.json (`name`, `type`, `id`, `messages`) and a full
export (`chats.list[]` of such chats). Messages are stored in batches of BATCH_SIZE, each in its
own transaction, so a file that breaks off leaves whole batches behind and the job reports how far
it got (message count and byte offset) and why it stopped.
"""

from dataclasses import dataclass

import ijson

from ..models import ChatSource
from ..telegram import InvalidTelegramData, export_chat, parse_export_message
from .storing import Outcome, RowCache, store_records

BATCH_SIZE = 500
PROGRESS_EVERY = 10  # messages; the platform throttles reports to one per JOBS_PROGRESS_INTERVAL_SECONDS
SINGLE_PREFIX = "messages.item"
FULL_PREFIX = "chats.list.item.messages.item"
CHAT_FIELDS = {"name", "type", "id"}


class ImportFailed(Exception):
    """The export could not be read to the end; what was read before is stored and counted."""

    def __init__(self, reason, counters, byte_offset):
        super().__init__(f"{reason} (after {counters['seen']} messages, near byte {byte_offset})")
        self.reason, self.counters, self.byte_offset = reason, counters, byte_offset


class CountingReader:
    """A binary file that remembers how many bytes ijson has read so far."""

    def __init__(self, raw):
        self.raw, self.position = raw, 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.position += len(data)
        return data


@dataclass
class Progress:
    counters: dict
    bytes_read: int
    bytes_total: int


def new_counters():
    return {"seen": 0, "created": 0, "updated": 0, "duplicates": 0, "skipped_service": 0, "skipped_media": 0,
            "failed": 0}


OUTCOME_COUNTER = {Outcome.CREATED: "created", Outcome.UPDATED: "updated", Outcome.DUPLICATE: "duplicates",
                   Outcome.SKIPPED_SERVICE: "skipped_service", Outcome.SKIPPED_MEDIA: "skipped_media"}


def iter_export(reader):
    """Yield (chat record, message dict) pairs from an export stream, one message in memory at a time."""
    chat_fields = {}
    builder = None
    chat = None
    for prefix, event, value in ijson.parse(reader, use_float=True):
        if builder is not None:
            builder.event(event, value)
            if prefix == item_prefix and event == "end_map":
                yield chat, builder.value
                builder = None
            continue
        if event == "start_map" and prefix in (SINGLE_PREFIX, FULL_PREFIX):
            if chat is None:
                chat = export_chat(chat_fields.get("id"), chat_fields.get("type"), chat_fields.get("name"))
            item_prefix = prefix
            builder = ijson.ObjectBuilder()
            builder.event(event, value)
            continue
        if event == "start_map" and prefix == "chats.list.item":
            chat_fields, chat = {}, None  # the next chat of a full export
            continue
        key = prefix.rsplit(".", 1)[-1]
        if key in CHAT_FIELDS and prefix in (key, f"chats.list.item.{key}") and event in ("string", "number"):
            chat_fields[key] = value


def import_export(path, workspace, on_progress=None):
    """Import the export at `path` into `workspace`; return (counters, chat ids). Raises ImportFailed."""
    counters = new_counters()
    cache = RowCache(workspace, ChatSource.EXPORT)
    with open(path, "rb") as raw:
        raw.seek(0, 2)
        total = raw.tell()
        raw.seek(0)
        reader = CountingReader(raw)
        batch = []
        last_report = 0

        def flush():
            for _, outcome, _ in store_records(batch, cache):
                counters[OUTCOME_COUNTER[outcome]] += 1
            batch.clear()

        try:
            for chat, message in iter_export(reader):
                counters["seen"] += 1
                try:
                    batch.append(parse_export_message(message, chat))
                except InvalidTelegramData:
                    counters["failed"] += 1  # one bad message is counted; the import goes on
                if len(batch) >= BATCH_SIZE:
                    flush()
                if on_progress is not None and counters["seen"] - last_report >= PROGRESS_EVERY:
                    last_report = counters["seen"]
                    on_progress(Progress(counters, reader.position, total))
            flush()
        except (ijson.JSONError, ijson.IncompleteJSONError, UnicodeDecodeError) as exc:
            flush()  # the messages parsed before the break are whole: keep them
            # yajl's message draws an arrow under the text on extra lines; its first line is the reason.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ImportFailed(f"malformed JSON: {reason}", counters, reader.position) from exc
        except InvalidTelegramData as exc:
            flush()
            raise ImportFailed(str(exc), counters, reader.position) from exc
        if counters["seen"] == 0 and not cache.chats:
            raise ImportFailed("no Telegram messages found: expected a result.json with `messages` or `chats.list`",
                               counters, reader.position)
        if on_progress is not None:
            on_progress(Progress(counters, total, total))
    return counters, sorted(cache.chats.values())

