"""Importing Telegram Desktop exports: both shapes, dedup, edits, counters, broken files."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.models import Chat, ChatJobStatus, Message, MessageIngestionJob
from memory.chats.services import ingestion
from memory.chats.services.starting import start_ingestion
from tests.memory.factories import make_workspace

from .shapes import export_message, full_export, sample_messages, single_chat_export, write_export

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def workspace():
    return make_workspace("demo")


def run_import(path, workspace, work):
    job = start_ingestion(workspace, str(path), path.name)
    work()
    job.refresh_from_db()
    return job


def test_a_single_chat_export_is_imported_with_every_shape(tmp_path, workspace, work):
    job = run_import(write_export(tmp_path / "result.json", single_chat_export()), workspace, work)
    assert job.status == ChatJobStatus.COMPLETED, job.error_message
    assert job.counters() == {"seen": 7, "created": 5, "updated": 0, "duplicates": 0, "skipped_service": 1,
                              "skipped_media": 1, "failed": 0}
    chat = Chat.objects.get()
    assert chat.telegram_id == -1001234567890 and chat.type == "supergroup" and job.chat == chat
    by_id = {m.telegram_id: m for m in Message.objects.all()}
    assert by_id[1].service_action == "create_group" and by_id[1].text == ""
    assert by_id[3].text == "See https://status.example.com and ask @bob about the alert?"
    assert by_id[3].entities == [{"type": "link", "offset": 4, "length": 26},
                                 {"type": "mention", "offset": 39, "length": 4}]
    assert by_id[3].reply_to == 2 and by_id[3].author.first_name == "Bob Martin"
    assert by_id[4].media_type == "sticker" and by_id[4].text == ""
    assert by_id[5].edited_at is not None and by_id[6].forwarded_from == "Storage Vendor"
    run = JobRun.objects.get(task_path="memory.chats.tasks.ingest_telegram_export")
    assert run.status == RunStatus.SUCCEEDED and run.result["created"] == 5
    # The import queued scoring, and the same burst ran it.
    assert not Message.objects.unscored().exists()


def test_a_second_import_counts_duplicates_and_applies_edits_in_place(tmp_path, workspace, work):
    run_import(write_export(tmp_path / "a.json", single_chat_export()), workspace, work)
    messages = sample_messages()
    messages[4]["text"] = "We decided to move the backups to object storage by Friday."
    messages[4]["edited_unixtime"] = str(int(messages[4]["edited_unixtime"]) + 600)
    messages.append(export_message(8, "A new message after the first export"))
    job = run_import(write_export(tmp_path / "b.json", single_chat_export(messages)), workspace, work)
    assert (job.created, job.updated, job.duplicates) == (1, 1, 6)
    assert Message.objects.count() == 8
    assert Message.objects.get(telegram_id=5).text.endswith("by Friday.")


def test_a_full_export_imports_every_chat_of_the_list(tmp_path, workspace):
    data = full_export([
        single_chat_export(chat_id=1, name="Alice", chat_type="personal_chat",
                           messages=[export_message(1, "hi Alice here")]),
        single_chat_export(chat_id=55, name="Old group", chat_type="private_group",
                           messages=[export_message(1, "basic group message"), export_message(2, "another one")]),
        single_chat_export(chat_id=777, name="News", chat_type="public_channel",
                           messages=[export_message(1, "channel post", sender="News", sender_id="channel777")]),
    ])
    counters, chat_ids = ingestion.import_export(write_export(tmp_path / "all.json", data), workspace)
    assert counters["created"] == 4 and len(chat_ids) == 3
    assert set(Chat.objects.values_list("telegram_id", "type")) == {
        (1, "private"), (-55, "group"), (-1000000000777, "channel")}
    post = Message.objects.get(chat__title="News")
    assert post.author.telegram_id == -1000000000777


def test_the_export_and_the_webhook_land_in_the_same_chat(tmp_path, workspace):
    from memory.chats.services.webhook import save_telegram_message

    from .factories import make_bot
    from .shapes import bot_update

    ingestion.import_export(write_export(tmp_path / "r.json", single_chat_export()), workspace)
    outcome, _ = save_telegram_message(make_bot(workspace), bot_update(1, 2, "Morning! The nightly backup of the "
                                                                             "billing database failed again, the disk is full.",
                                                                       date=1_764_003_600))
    assert Chat.objects.count() == 1
    assert outcome in ("duplicate", "updated")


def test_dates_without_unixtime_and_text_as_a_plain_string_are_read(tmp_path, workspace):
    message = export_message(1, "plain string text")
    del message["date_unixtime"]
    counters, _ = ingestion.import_export(write_export(tmp_path / "r.json", single_chat_export([message])), workspace)
    assert counters["created"] == 1
    assert Message.objects.get().sent_at.isoformat().startswith("2025-11-24T16:00:00")


def test_a_message_of_the_wrong_shape_is_counted_failed_and_the_rest_imported(tmp_path, workspace):
    messages = [export_message(1, "good one"), {"id": "x", "type": "message", "date_unixtime": "1"},
                export_message(3, {"wrong": "type"}), export_message(4, "good two"), {"id": 5, "type": "message"}]
    counters, _ = ingestion.import_export(write_export(tmp_path / "r.json", single_chat_export(messages)), workspace)
    assert (counters["seen"], counters["created"], counters["failed"]) == (5, 2, 3)


def test_a_truncated_file_fails_with_the_position_and_keeps_whole_batches(tmp_path, workspace, work, monkeypatch):
    monkeypatch.setattr(ingestion, "BATCH_SIZE", 10)
    messages = [export_message(i, f"message number {i} about the backup plan") for i in range(1, 101)]
    raw = json.dumps(single_chat_export(messages)).encode()
    path = tmp_path / "broken.json"
    path.write_bytes(raw[: len(raw) * 2 // 3])
    job = run_import(path, workspace, work)
    assert job.status == ChatJobStatus.FAILED
    assert "malformed JSON" in job.error_message and "near byte" in job.error_message
    assert f"after {job.seen} messages" in job.error_message
    stored = Message.objects.count()
    # Every message parsed before the break is stored and counted; nothing half-written.
    assert stored == job.created == job.seen and 50 < stored < 100
    assert list(Message.objects.order_by("telegram_id").values_list("telegram_id", flat=True)) == \
        list(range(1, stored + 1))
    run = JobRun.objects.get(task_path="memory.chats.tasks.ingest_telegram_export")
    assert run.status == RunStatus.DEAD and "near byte" in run.error_message


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "malformed JSON"),
    (b"\xff\xfe not json", "malformed JSON"),
    (b'{"name": "x", "type": "private_group", "messages": [{"id": 1, "type": "message", "date_unixtime": "1"}]}',
     "the chat has no id before its messages"),
    (b'{"some": "other json"}', "no Telegram messages found"),
    (b'[1, 2, 3]', "no Telegram messages found"),
])
def test_files_that_are_not_exports_fail_with_a_reason(tmp_path, workspace, content, reason):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ingestion.ImportFailed, match=reason):
        ingestion.import_export(str(path), workspace)
    assert not Message.objects.exists()


def test_the_command_imports_with_a_progress_bar(tmp_path, workspace, capsys):
    path = write_export(tmp_path / "result.json", single_chat_export())
    out = io.StringIO()
    call_command("memory", "import_telegram", str(path), "--workspace", "demo", stdout=out)
    assert "created=5" in out.getvalue() and "scoring queued" in out.getvalue()
    assert "100.0%" in capsys.readouterr().err
    assert MessageIngestionJob.objects.get().status == ChatJobStatus.COMPLETED


def test_the_command_reports_a_broken_file(tmp_path, workspace):
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x", "type": "private_group", "id": 5, "messages": [{"id": 1,')
    with pytest.raises(CommandError, match="near byte"):
        call_command("memory", "import_telegram", str(path), "--workspace", "demo")
    assert MessageIngestionJob.objects.get().status == ChatJobStatus.FAILED


def test_progress_events_are_reported_while_importing(tmp_path, workspace):
    messages = [export_message(i, f"text {i}") for i in range(1, 46)]
    reports = []
    ingestion.import_export(write_export(tmp_path / "r.json", single_chat_export(messages)), workspace,
                            on_progress=lambda p: reports.append((p.counters["seen"], p.bytes_read)))
    assert [seen for seen, _ in reports] == [10, 20, 30, 40, 45]
    assert reports[-1][1] == (tmp_path / "r.json").stat().st_size
