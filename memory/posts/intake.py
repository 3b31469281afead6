"""The one door every post goes through: validate, store idempotently on (workspace, source, external id),
record `posts.parsed`, and queue tagging after the commit."""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from memory.conf import memory_settings

from . import events
from .models import Post, text_hash

MAX_TEXT_CHARS = 20_000
MAX_LINKS = 20
MAX_LINK_CHARS = 2_000
MAX_IMAGES = 4
URL = re.compile(r"https?://[^\s<>\"'()\[\]]+", re.IGNORECASE)


class InvalidPost(ValueError):
    """A post that cannot be stored; the message says why."""


@dataclass
class PostInput:
    source: str
    external_id: str
    text: str
    channel: str = ""
    links: list = field(default_factory=list)
    published_at: dt.datetime | None = None
    # [{"url": ...}] or [{"telegram": {"kind": "photo"|"document", "sizes": [...]}}]: see memory.posts.images
    images: list = field(default_factory=list)


def links_in(text):
    """The http(s) URLs written in text, in order, without trailing punctuation, each once."""
    found = []
    for match in URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if url not in found:
            found.append(url)
    return found


def validated(data, source):
    """A PostInput from a JSON object ({external_id, text, channel?, links?, images?, published_at?}), or InvalidPost.

    `images` are http(s) URLs of attached images (OCR'd after the links are crawled); a post with
    images may have an empty text.
    """
    if not isinstance(data, dict):
        raise InvalidPost("a post must be a JSON object")
    external_id = data.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 200:
        raise InvalidPost("external_id must be a non-empty string (or integer) of at most 200 characters")
    if "\x00" in external_id:
        raise InvalidPost("external_id must not contain NUL characters")
    images = data.get("images", [])
    if not isinstance(images, list) or not all(isinstance(url, str) and URL.fullmatch(url) for url in images):
        raise InvalidPost("images must be a list of http(s) URLs")
    images = list(dict.fromkeys(images))
    if len(images) > MAX_IMAGES or any(len(url) > MAX_LINK_CHARS for url in images):
        raise InvalidPost(f"at most {MAX_IMAGES} images with URLs of at most {MAX_LINK_CHARS} characters")
    text = data.get("text", "" if images else None)
    if not isinstance(text, str) or not (text.strip() or images):
        raise InvalidPost("text must be a non-empty string (it may be empty when images are given)")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidPost(f"text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    if "\x00" in text:
        raise InvalidPost("text must not contain NUL characters")
    channel = data.get("channel", "")
    if not isinstance(channel, str) or len(channel) > 255 or "\x00" in channel:
        raise InvalidPost("channel must be a string of at most 255 characters, without NUL")
    links = data.get("links")
    if links is None:
        links = links_in(text)
    elif not isinstance(links, list) or not all(isinstance(link, str) and URL.fullmatch(link) for link in links):
        raise InvalidPost("links must be a list of http(s) URLs")
    if len(links) > MAX_LINKS or any(len(link) > MAX_LINK_CHARS for link in links):
        raise InvalidPost(f"at most {MAX_LINKS} links of at most {MAX_LINK_CHARS} characters")
    published_at = data.get("published_at")
    if published_at is not None:
        try:
            published_at = dt.datetime.fromisoformat(published_at)
        except (TypeError, ValueError):
            raise InvalidPost("published_at must be an ISO 8601 date-time") from None
        if timezone.is_naive(published_at):
            published_at = published_at.replace(tzinfo=dt.UTC)
        # As its UTC instant: Python allows offsets up to ±23:59, PostgreSQL only ±15:59.
        published_at = published_at.astimezone(dt.UTC)
    return PostInput(source=source, external_id=external_id.strip(), text=text, channel=channel.strip(),
                     links=list(dict.fromkeys(links)), published_at=published_at,
                     images=[{"url": url} for url in images])


def expiry(published_at):
    days = memory_settings.POSTS_TTL_DAYS
    return published_at + dt.timedelta(days=days) if days else None


def new_post(workspace, item):
    """An unsaved Post for a delivery seen for the first time."""
    published_at = item.published_at or timezone.now()
    return Post(workspace=workspace, source=item.source, external_id=item.external_id, channel=item.channel,
                text=item.text, text_hash=text_hash(item.text), links=item.links, images=item.images,
                published_at=published_at, expires_at=expiry(published_at),
                events=[Post.event_entry("posts.parsed", source=item.source)])


def parse_post(workspace, item):
    """Store one PostInput for workspace; return (outcome, post) with outcome created, updated or duplicate.

    A redelivery (same source and external id, same text and images) is a duplicate and queues nothing;
    an edit of the text rewrites the post, bumps its revision, goes back to `parsed` and is tagged again;
    an edit of the images alone has them read again. Must run inside a transaction: jobs are queued
    when it commits.
    """
    from .tasks import tag_post  # noqa: PLC0415 - the tasks import the services

    post = (Post.objects.select_for_update()
            .filter(workspace=workspace, source=item.source, external_id=item.external_id).first())
    if post is None:
        try:
            # A savepoint: a concurrent delivery of the same post may insert it first.
            with transaction.atomic():
                post = new_post(workspace, item)
                post.save(force_insert=True)
        except IntegrityError:
            post = Post.objects.select_for_update().get(
                workspace=workspace, source=item.source, external_id=item.external_id)
        else:
            events.publish_post(post, "posts.parsed", outcome="created")
            tag_post.enqueue(post.pk)
            return "created", post
    return redelivered(post, item), post


def redelivered(post, item):
    """Apply a delivery of a post already stored (and locked); return updated or duplicate."""
    from .tasks import ocr_post_image, tag_post  # noqa: PLC0415 - the tasks import the services

    digest = text_hash(item.text)
    if post.text_hash == digest:
        if post.images == item.images:
            return "duplicate"
        post.images = item.images
        post.save(update_fields=["images", "updated_at"])
        # The text is tagged already (the tagging chain would stop at its dedup key): only the images.
        ocr_post_image.enqueue(post.pk)
        return "updated"
    post.text, post.text_hash, post.links, post.images = item.text, digest, item.links, item.images
    post.channel = item.channel or post.channel
    post.revision += 1
    post.save(update_fields=["text", "text_hash", "links", "images", "channel", "revision", "updated_at"])
    post.record_event("posts.parsed", stage=Post.Stage.PARSED, source=item.source, edit=True)
    events.publish_post(post, "posts.parsed", outcome="updated")
    tag_post.enqueue(post.pk)
    return "updated"


def parse_batch(workspace, raw_items, source):
    """Validate every item first, then store them all in one transaction; return [(outcome, post)].

    Raises InvalidPost with {index: reason} of every bad item: nothing is stored then.
    """
    items, errors = [], {}
    for index, raw in enumerate(raw_items):
        try:
            items.append(validated(raw, source))
        except InvalidPost as exc:
            errors[str(index)] = [str(exc)]
    if errors:
        raise InvalidPost(errors)
    with transaction.atomic():
        return store_batch(workspace, items, source)


def store_batch(workspace, items, source):
    """parse_post for every item, in order, with the same outcomes, in a few round trips per batch.

    One SELECT ... FOR UPDATE finds (and locks) the posts already stored, one INSERT writes the new
    ones and one enqueue_many queues their tagging: per post, parse_post would take four round trips
    and an enqueue (what held a 50,000-post intake to tens of posts a second). A delivery already
    stored goes through `redelivered` (a duplicate costs nothing more); an external id repeated
    within the batch, after its first item, goes through parse_post, in order. If a concurrent
    delivery inserted one of the new posts first, the INSERT's savepoint is rolled back and the
    batch goes through parse_post item by item.
    """
    from .tasks import tag_post  # noqa: PLC0415 - the tasks import the services

    stored = {post.external_id: post for post in Post.objects.select_for_update().defer("embedding").filter(
        workspace=workspace, source=source, external_id__in={item.external_id for item in items})}
    first, fresh = set(), {}
    for item in items:
        if item.external_id not in stored and item.external_id not in fresh:
            fresh[item.external_id] = new_post(workspace, item)
    try:
        with transaction.atomic():
            Post.objects.bulk_create(fresh.values())
    except IntegrityError:
        return [parse_post(workspace, item) for item in items]
    results = []
    for item in items:
        if item.external_id in first:
            results.append(parse_post(workspace, item))  # a repeat within the batch: after the first, in order
        elif item.external_id in fresh:
            post = fresh[item.external_id]
            events.publish_post(post, "posts.parsed", outcome="created")
            results.append(("created", post))
        else:
            results.append((redelivered(stored[item.external_id], item), stored[item.external_id]))
        first.add(item.external_id)
    if fresh:
        tag_post.enqueue_many([(post.pk,) for post in fresh.values()])
    return results


def from_telegram_update(update):
    """A PostInput from a Bot API `channel_post`/`edited_channel_post` update, or None for other updates."""
    kind = "channel_post" if "channel_post" in update else "edited_channel_post" if "edited_channel_post" in update else None
    if kind is None or not isinstance(update[kind], dict):
        return None
    message = update[kind]
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    text = message.get("text") or message.get("caption") or ""
    images = telegram_images(message)
    if not isinstance(text, str) or not (text.strip() or images) or "id" not in chat or "message_id" not in message:
        return None
    published = message.get("date")
    return PostInput(
        source=Post.Source.TELEGRAM, external_id=f"{chat['id']}:{message['message_id']}", text=text[:MAX_TEXT_CHARS],
        channel=str(chat.get("username") or chat.get("title") or chat["id"])[:255], links=links_in(text)[:MAX_LINKS],
        published_at=dt.datetime.fromtimestamp(published, tz=dt.UTC) if isinstance(published, int) else None,
        images=images)


def _photo_size(size):
    """The fields of a Bot API PhotoSize (or Document) that picking and fetching a file need."""
    return {"file_id": size["file_id"], "file_unique_id": str(size.get("file_unique_id") or size["file_id"]),
            "file_size": size.get("file_size") if isinstance(size.get("file_size"), int) else None,
            "width": size.get("width") if isinstance(size.get("width"), int) else 0,
            "height": size.get("height") if isinstance(size.get("height"), int) else 0}


def telegram_images(message):
    """The images a channel message carries: its `photo` (every size; the largest that fits is fetched)
    or a `document` whose MIME type is an image."""
    photo = message.get("photo")
    if isinstance(photo, list):
        sizes = [_photo_size(s) for s in photo if isinstance(s, dict) and isinstance(s.get("file_id"), str)]
        return [{"telegram": {"kind": "photo", "sizes": sizes}}] if sizes else []
    document = message.get("document")
    if (isinstance(document, dict) and isinstance(document.get("file_id"), str)
            and str(document.get("mime_type", "")).startswith("image/")):
        return [{"telegram": {"kind": "document", "sizes": [_photo_size(document)]}}]
    return []


def telegram_post(workspace, update):
    """Hand a webhook update to parse_post if it is a channel post with text; return the outcome or None."""
    item = from_telegram_update(update)
    if item is None:
        return None
    with transaction.atomic():
        return parse_post(workspace, item)[0]
