"""Author avatars cached as files, with a fake Bot API on 127.0.0.1 standing in for api.telegram.org."""

import io
import json

import pytest
from django.test import Client
from PIL import Image

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.models import Author
from memory.chats.services.avatars import cache_avatar

from tests.memory.factories import make_workspace

from .factories import make_author, make_bot
from .fake_servers import FakeServer
from .shapes import bot_update

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "123456:TEST-token"


def image_bytes(kind="PNG", size=(64, 64)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, kind)
    return buffer.getvalue()


def photo_sizes(unique="AQADphoto1", big_size=9_000):
    return [
        {"file_id": "small-file", "file_unique_id": f"{unique}-s", "file_size": 900, "width": 160, "height": 160},
        {"file_id": "big-file", "file_unique_id": unique, "file_size": big_size, "width": 640, "height": 640},
    ]


@pytest.fixture
def telegram(settings, tmp_path):
    server = FakeServer()
    settings.MEMORY_TELEGRAM_API_URL = server.url
    settings.MEDIA_ROOT = str(tmp_path / "media")
    yield server
    server.close()


@pytest.fixture
def author():
    bot = make_bot(token=TOKEN)
    return make_author(bot.workspace, telegram_id=111)


def serve_photo(telegram, data, content_type="image/png", sizes=None, headers=None):
    telegram.route(f"/bot{TOKEN}/getUserProfilePhotos",
                   (200, {"ok": True, "result": {"total_count": 1, "photos": [sizes or photo_sizes()]}}))
    telegram.route(f"/bot{TOKEN}/getFile",
                   (200, {"ok": True, "result": {"file_id": "big-file", "file_unique_id": "AQADphoto1",
                                                 "file_size": len(data), "file_path": "photos/file_7.png"}}))
    telegram.route(f"/file/bot{TOKEN}/photos/file_7.png", (200, data, {"Content-Type": content_type, **(headers or {})}))


def test_the_largest_photo_under_the_cap_is_stored_under_media(telegram, author, settings):
    data = image_bytes()
    serve_photo(telegram, data)
    result = cache_avatar(author.pk)
    author.refresh_from_db()
    assert result == {"stored": author.avatar.name, "bytes": len(data)}
    assert author.avatar.name == f"chats/avatars/{author.workspace_id}/111-AQADphoto1.png"
    assert author.avatar.path.startswith(settings.MEDIA_ROOT) and open(author.avatar.path, "rb").read() == data
    assert author.avatar_file_id == "AQADphoto1" and author.avatar_checked_at is not None
    assert telegram.paths() == [f"/bot{TOKEN}/getUserProfilePhotos?user_id=111&limit=1",
                                f"/bot{TOKEN}/getFile?file_id=big-file", f"/file/bot{TOKEN}/photos/file_7.png"]


def test_the_same_photo_is_not_downloaded_twice_and_a_new_one_replaces_it(telegram, author):
    serve_photo(telegram, image_bytes())
    cache_avatar(author.pk)
    first = Author.objects.get(pk=author.pk).avatar
    telegram.requests.clear()
    assert cache_avatar(author.pk) == {"unchanged": first.name}
    assert len(telegram.requests) == 1  # only getUserProfilePhotos
    serve_photo(telegram, image_bytes("JPEG"), "image/jpeg", sizes=photo_sizes("AQADphoto2"))
    result = cache_avatar(author.pk)
    author.refresh_from_db()
    assert result["stored"].endswith("111-AQADphoto2.jpg") and author.avatar.name == result["stored"]
    assert not first.storage.exists(first.name) and author.avatar.storage.exists(author.avatar.name)


def test_a_size_over_the_cap_is_skipped_for_a_smaller_one(telegram, author, settings):
    settings.MEMORY_CHATS_AVATAR_MAX_BYTES = 5_000
    data = image_bytes(size=(16, 16))
    serve_photo(telegram, data)
    assert "stored" in cache_avatar(author.pk)
    assert f"/bot{TOKEN}/getFile?file_id=small-file" in telegram.paths()


@pytest.mark.parametrize("data, content_type, headers, reason", [
    (b"\x89PNG\r\n\x1a\n" + b"0" * 6_000, "image/png", {}, "larger than 5000 bytes"),
    (image_bytes(size=(8, 8)), "image/png", {"Content-Length": "999999"}, "larger than 5000 bytes"),
    (b"<html><body>login</body></html>", "text/html", {}, "content type is text/html"),
    (b"MZ\x90\x00 an executable", "application/octet-stream", {}, "not a JPEG, PNG or WebP"),
    (image_bytes("JPEG", (8, 8)), "image/png", {}, "not a JPEG, PNG or WebP"),
])
def test_a_download_that_is_too_large_or_not_an_image_is_refused(telegram, author, settings, data, content_type,
                                                                 headers, reason):
    settings.MEMORY_CHATS_AVATAR_MAX_BYTES = 5_000
    serve_photo(telegram, data, content_type, sizes=photo_sizes(big_size=1_000), headers=headers)
    result = cache_avatar(author.pk)
    author.refresh_from_db()
    assert reason in result["refused"] and not author.avatar and author.avatar_checked_at is not None
    assert TOKEN not in result["refused"]


def test_every_size_over_the_cap_downloads_nothing(telegram, author, settings):
    settings.MEMORY_CHATS_AVATAR_MAX_BYTES = 500
    serve_photo(telegram, image_bytes())
    assert "over 500 bytes" in cache_avatar(author.pk)["refused"]
    assert not any("getFile" in path for path in telegram.paths())


def test_an_author_without_a_photo_or_a_bot_without_a_token(telegram, author):
    telegram.route(f"/bot{TOKEN}/getUserProfilePhotos", (200, {"ok": True, "result": {"total_count": 0, "photos": []}}))
    assert cache_avatar(author.pk) == {"skipped": "no profile photo"}
    stranger = make_author(make_bot(make_workspace("other"), name="no token").workspace)
    assert cache_avatar(stranger.pk) == {"skipped": "no bot token in the workspace"}


def test_a_bot_api_error_is_refused_with_its_description_and_an_outage_raises(telegram, author):
    telegram.route(f"/bot{TOKEN}/getUserProfilePhotos",
                   (400, {"ok": False, "error_code": 400, "description": "Bad Request: user not found"}))
    assert cache_avatar(author.pk) == {"refused": "getUserProfilePhotos failed: Bad Request: user not found"}
    telegram.route(f"/bot{TOKEN}/getUserProfilePhotos", (502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}))
    with pytest.raises(Exception, match="HTTP 502") as raised:
        cache_avatar(author.pk)
    assert TOKEN not in str(raised.value)


def test_the_webhook_queues_the_job_once_and_a_worker_stores_the_photo(telegram, work):
    bot = make_bot(token=TOKEN)
    serve_photo(telegram, image_bytes())
    for n in (1, 2):
        response = Client().post(f"/webhooks/telegram/{bot.path_secret}", data=json.dumps(bot_update(n, n)),
                                 content_type="application/json",
                                 headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret})
        assert response.status_code == 200
    runs = JobRun.objects.filter(task_path="memory.chats.tasks.cache_author_avatar")
    assert runs.count() == 1  # the second delivery found the first still queued (unique per author)
    work()
    assert runs.get().status == RunStatus.SUCCEEDED
    author = Author.objects.get(telegram_id=111)
    assert author.avatar.name.endswith("111-AQADphoto1.png") and author.avatar.storage.exists(author.avatar.name)
    Client().post(f"/webhooks/telegram/{bot.path_secret}", data=json.dumps(bot_update(3, 3)),
                  content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret})
    assert runs.count() == 1  # checked already: no new fetch per message


def test_no_token_no_job(telegram):
    bot = make_bot()
    Client().post(f"/webhooks/telegram/{bot.path_secret}", data=json.dumps(bot_update(1, 1)),
                  content_type="application/json", headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret})
    assert not JobRun.objects.filter(task_path="memory.chats.tasks.cache_author_avatar").exists()
    assert telegram.requests == []


def test_a_channel_posting_as_itself_gets_no_avatar_job(telegram):
    bot = make_bot(token=TOKEN)
    update = bot_update(1, 1, "Release 2.3 is out", kind="channel_post", chat_id=-1009876543210, chat_type="channel")
    response = Client().post(f"/webhooks/telegram/{bot.path_secret}", data=json.dumps(update),
                             content_type="application/json",
                             headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret})
    assert response.status_code == 200 and Author.objects.get().telegram_id < 0
    assert not JobRun.objects.filter(task_path="memory.chats.tasks.cache_author_avatar").exists()
