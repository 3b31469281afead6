"""Images attached to posts read by tesseract into the `ocr` enrichment: Telegram photos through a fake Bot
API on 127.0.0.1, API image URLs through the links' fetcher, and the engine missing."""

import io
import json
import time

import pytest
from django.test import Client
from PIL import Image

from jobs.models import JobRun
from memory.posts import ocr
from memory.posts.indexing import indexed_text
from memory.posts.models import Post, PostEnrichment
from tests.memory.chats.factories import make_bot
from tests.memory.chats.fake_servers import FakeServer
from tests.memory.chats.shapes import bot_update
from tests.memory.documents.samples import png_of_text
from tests.memory.factories import make_workspace
from tests.users import make_operator

from .factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "123456:TEST-token"
IMAGE_TEXT = "Invoice 4821 from Zephyrine Logistics is due on Friday."


@pytest.fixture
def server(settings):
    fake = FakeServer()
    settings.MEMORY_TELEGRAM_API_URL = fake.url
    settings.MEMORY_POSTS_FETCH_ALLOW_PRIVATE = True  # the fake server is on 127.0.0.1
    yield fake
    fake.close()


def photo_update(update_id=1, message_id=7, caption="Our supplier sent this today", sizes=None, **extra):
    # Dated now: a post (and its memory) published at the shapes' 2025 date would have expired already.
    update = bot_update(update_id, message_id, kind="channel_post", chat_id=-1009876543210, title="Finance",
                        date=int(time.time()))
    message = update["channel_post"]
    del message["text"]
    if caption is not None:
        message["caption"] = caption
    message["photo"] = sizes if sizes is not None else [
        {"file_id": "small-file", "file_unique_id": "AQADsmall", "file_size": 900, "width": 90, "height": 40},
        {"file_id": "big-file", "file_unique_id": "AQADbig", "file_size": 60_000, "width": 1700, "height": 400},
    ]
    message.update(extra)
    return update


def webhook(bot, update):
    return Client().post(f"/webhooks/telegram/{bot.path_secret}", data=json.dumps(update),
                         content_type="application/json",
                         headers={"X-Telegram-Bot-Api-Secret-Token": bot.header_secret})


def serve_file(server, data, file_id="big-file", content_type="image/png"):
    server.route(f"/bot{TOKEN}/getFile", (200, {"ok": True, "result": {"file_id": file_id,
                                                                         "file_path": "photos/file_1.png"}}))
    server.route(f"/file/bot{TOKEN}/photos/file_1.png", (200, data, {"Content-Type": content_type}))


def ocr_row(post):
    return PostEnrichment.objects.get(post=post, kind="ocr").data


def test_a_channel_photo_is_fetched_through_get_file_read_indexed_and_found_by_search(server, member, client, work):
    bot = make_bot(make_workspace("acme", member=member), token=TOKEN)
    serve_file(server, png_of_text(IMAGE_TEXT))
    assert webhook(bot, photo_update()).status_code == 200
    post = Post.objects.get()
    assert post.text == "Our supplier sent this today" and post.images[0]["telegram"]["kind"] == "photo"
    work()
    post.refresh_from_db()
    data = ocr_row(post)
    assert data["status"] == "done" and data["images"][0]["ok"]
    assert "Zephyrine Logistics" in data["images"][0]["text"] and data["images"][0]["confidence"] > 0.5
    assert f"/bot{TOKEN}/getFile?file_id=big-file" in server.paths()  # the largest size
    assert post.stage == "indexed"
    assert [e["event"] for e in post.events] == ["posts.parsed", "posts.tagged", "posts.enriched", "posts.ocr",
                                                 "posts.indexed"]
    response = client.get("/api/search", {"q": "Zephyrine Logistics invoice"})
    assert [hit["memory"]["metadata"]["post_id"] for hit in response.json()["results"]][:1] == [post.pk]


def test_the_largest_size_under_the_cap_is_fetched_and_a_photo_without_caption_is_a_post(server, settings):
    settings.MEMORY_POSTS_IMAGE_MAX_BYTES = 10_000
    bot = make_bot(token=TOKEN)
    serve_file(server, png_of_text("Small print"), file_id="small-file")
    webhook(bot, photo_update(caption=None))
    post = Post.objects.get()
    assert post.text == ""
    assert ocr.ocr_post_image(post.pk) == {"images": 1, "read": 1, "refused": 0}
    assert f"/bot{TOKEN}/getFile?file_id=small-file" in server.paths()
    assert all("big-file" not in path for path in server.paths())


def test_an_image_document_is_read_and_other_documents_are_not_images(server):
    bot = make_bot(token=TOKEN)
    document = {"file_id": "doc-file", "file_unique_id": "AQADdoc", "file_size": 50_000, "mime_type": "image/png",
                "file_name": "scan.png"}
    serve_file(server, png_of_text(IMAGE_TEXT), file_id="doc-file")
    update = photo_update(update_id=2, message_id=8, document=document)
    del update["channel_post"]["photo"]
    webhook(bot, update)
    pdf = photo_update(update_id=3, message_id=9, caption=None,
                       document={**document, "mime_type": "application/pdf", "file_id": "pdf"})
    del pdf["channel_post"]["photo"]
    webhook(bot, pdf)
    post = Post.objects.get(external_id="-1009876543210:8")
    assert post.images == [{"telegram": {"kind": "document", "sizes": [
        {"file_id": "doc-file", "file_unique_id": "AQADdoc", "file_size": 50_000, "width": 0, "height": 0}]}}]
    ocr.ocr_post_image(post.pk)
    assert "Zephyrine" in ocr_row(post)["images"][0]["text"]
    assert not Post.objects.filter(external_id="-1009876543210:9").exists()  # a PDF without caption: no post


def test_a_photo_refused_by_the_bot_api_is_recorded_not_crashed(server):
    bot = make_bot(token=TOKEN)
    serve_file(server, b"<html>not an image</html>", content_type="text/html")
    webhook(bot, photo_update())
    post = Post.objects.get()
    assert ocr.ocr_post_image(post.pk) == {"images": 1, "read": 0, "refused": 1}
    entry = ocr_row(post)["images"][0]
    assert entry["ok"] is False and "not an image" in entry["reason"] and TOKEN not in entry["reason"]


def image_post(workspace, urls, text="The new price list"):
    return make_post(workspace, text, images=urls)


def test_an_api_image_url_is_fetched_with_the_links_rules_and_read(server, member):
    server.route("/price-list.png", (200, png_of_text(IMAGE_TEXT), {"Content-Type": "image/png"}))
    server.route("/page.html", (200, b"<html><body>hi</body></html>", {"Content-Type": "text/html"}))
    server.route("/fake.png", (200, b"GIF89a not a png", {"Content-Type": "image/png"}))
    server.route("/robots.txt", (200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"}))
    workspace = make_workspace("acme", member=member)
    urls = [f"{server.url}/{name}" for name in ("price-list.png", "page.html", "fake.png", "private/a.png")]
    post = image_post(workspace, urls)
    assert ocr.ocr_post_image(post.pk) == {"images": 4, "read": 1, "refused": 3}
    entries = ocr_row(post)["images"]
    assert "Zephyrine Logistics" in entries[0]["text"] and entries[0]["url"] == urls[0]
    assert [entry.get("reason", "").split(":")[0] for entry in entries[1:]] == ["content_type", "content_type",
                                                                                 "robots"]
    assert "Zephyrine Logistics" in indexed_text(post)


def test_an_image_url_over_the_cap_or_on_a_private_address_is_refused(server, member, settings):
    server.route("/huge.png", (200, b"\x89PNG\r\n\x1a\n" + b"0" * 3000, {"Content-Type": "image/png"}))
    settings.MEMORY_POSTS_IMAGE_MAX_BYTES = 1000
    post = image_post(make_workspace("acme", member=member), [f"{server.url}/huge.png"])
    ocr.ocr_post_image(post.pk)
    assert ocr_row(post)["images"][0]["reason"].startswith("too_large")
    settings.MEMORY_POSTS_FETCH_ALLOW_PRIVATE = False
    ocr.ocr_post_image(post.pk)
    assert ocr_row(post)["images"][0]["reason"].startswith("private_address")


def test_a_pixel_bomb_is_refused_before_it_is_decoded(server, member):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")  # 81 Mpx in a few KB
    server.route("/bomb.png", (200, buffer.getvalue(), {"Content-Type": "image/png"}))
    post = image_post(make_workspace("acme", member=member), [f"{server.url}/bomb.png"])
    ocr.ocr_post_image(post.pk)
    assert "pixels is over" in ocr_row(post)["images"][0]["reason"]


def test_without_tesseract_the_row_says_unavailable_and_the_post_is_still_indexed(server, member, monkeypatch,
                                                                                  tmp_path, work):
    server.route("/price-list.png", (200, png_of_text(IMAGE_TEXT), {"Content-Type": "image/png"}))
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on the PATH
    post = image_post(make_workspace("acme", member=member), [f"{server.url}/price-list.png"])
    work()
    post.refresh_from_db()
    data = ocr_row(post)
    assert data["status"] == "unavailable" and "tesseract is not installed" in data["reason"]
    assert data["images"] == [{"source": "url", "url": f"{server.url}/price-list.png"}]
    assert server.paths() == []  # nothing fetched for an engine that is not there
    assert post.stage == "indexed"
    run = JobRun.objects.get(task_path="memory.posts.tasks.ocr_post_image")
    assert run.status == "succeeded"


def test_an_edit_of_the_image_alone_is_read_again_without_tagging_again(server, member):
    workspace = make_workspace("acme", member=member)
    post = image_post(workspace, [f"{server.url}/a.png"])
    image_post(workspace, [f"{server.url}/b.png"])
    post.refresh_from_db()
    assert post.images == [{"url": f"{server.url}/b.png"}] and post.revision == 0
    runs = JobRun.objects.values_list("task_path", flat=True)
    assert sorted(runs) == ["memory.posts.tasks.ocr_post_image", "memory.posts.tasks.tag_post"]


def test_the_api_accepts_image_urls_and_refuses_bad_ones(member):
    from memory.posts.intake import InvalidPost, validated

    item = validated({"external_id": "1", "images": ["https://cdn.example/a.png"]}, "api")
    assert item.text == "" and item.images == [{"url": "https://cdn.example/a.png"}]
    for images in (["ftp://x/a.png"], "https://cdn.example/a.png", [f"https://cdn.example/{n}.png" for n in range(5)]):
        with pytest.raises(InvalidPost):
            validated({"external_id": "1", "text": "t", "images": images}, "api")
    with pytest.raises(InvalidPost):
        validated({"external_id": "1"}, "api")


def test_the_posts_page_shows_the_image_text_and_an_unavailable_engine(server, member, client):
    workspace = make_workspace("acme", member=member)
    read = image_post(workspace, [f"{server.url}/a.png"])
    PostEnrichment.objects.create(post=read, kind="ocr", data={"status": "done", "images": [
        {"source": "url", "url": f"{server.url}/a.png", "ok": True, "text": IMAGE_TEXT, "confidence": 0.9}]})
    missing = make_post(workspace, "Another price list", external_id="2", images=[f"{server.url}/b.png"])
    PostEnrichment.objects.create(post=missing, kind="ocr", data={"status": "unavailable",
                                                                   "reason": "tesseract is not installed"})
    page = client.get("/posts/").content.decode()
    assert IMAGE_TEXT in page and "OCR unavailable (tesseract is not installed)" in page


def test_the_admin_reruns_ocr_for_posts_with_images_and_for_ocr_rows(server, member):
    admin_client = Client()
    admin_client.force_login(make_operator())
    workspace = make_workspace("acme", member=member)
    with_image = image_post(workspace, [f"{server.url}/a.png"])
    without = make_post(workspace, "Plain text", external_id="2")
    row = PostEnrichment.objects.create(post=with_image, kind="ocr", data={})
    JobRun.objects.all().delete()
    admin_client.post("/admin/memory/post/", {"action": "ocr_again", "_selected_action": [with_image.pk, without.pk]})
    admin_client.post("/admin/memory/postenrichment/", {"action": "rerun_stage", "_selected_action": [row.pk]})
    runs = JobRun.objects.filter(task_path="memory.posts.tasks.ocr_post_image")
    assert sorted(run.args[0] for run in runs) == [with_image.pk, with_image.pk]


def test_a_photo_without_caption_and_without_tesseract_is_still_indexed(server, monkeypatch, tmp_path, work):
    bot = make_bot(token=TOKEN)
    monkeypatch.setenv("PATH", str(tmp_path))
    webhook(bot, photo_update(caption=None))
    work()
    post = Post.objects.get()
    assert post.text == "" and post.stage == "indexed"
    assert ocr_row(post)["status"] == "unavailable" and server.paths() == []
    assert PostEnrichment.objects.get(post=post, kind="tags").data["tags"] == []
