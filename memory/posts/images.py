"""The bytes of an image attached to a post: a Telegram file through the Bot API, or a URL through the
links' fetcher. Both are capped at MEMORY_POSTS_IMAGE_MAX_BYTES and must be JPEG, PNG or WebP by their
first bytes; whatever goes wrong is an ImageRefused with a short reason the OCR row records.

The Bot API path is the one authors' avatars take (memory.chats.services.avatars): getFile for the
file's path, then <MEMORY_TELEGRAM_API_URL>/file/bot<token>/<path>, with the workspace's bot. A URL
goes through memory.posts.fetch's PageFetcher: every hop checked (private addresses refused unless
MEMORY_POSTS_FETCH_ALLOW_PRIVATE), robots.txt respected, time bounded, the size capped while streaming.
"""

from memory.chats.services import avatars
from memory.conf import memory_settings

from .fetch import FetchRefused, Limits, PageFetcher, content_type_of


class ImageRefused(Exception):
    """An image not fetched; the message is short and says why (it is stored in the OCR row)."""


def image_bytes(post, image):
    """The bytes of one entry of post.images ({"url"} or {"telegram"}), or ImageRefused."""
    cap = memory_settings.POSTS_IMAGE_MAX_BYTES
    if isinstance(image.get("telegram"), dict):
        return telegram_file(post, image["telegram"], cap)
    if isinstance(image.get("url"), str):
        return url_image(image["url"], cap)
    raise ImageRefused("unknown image reference")


def telegram_file(post, reference, cap):
    """The largest size of a Telegram photo (or the image document) that fits the cap, through getFile."""
    bot = avatars.bot_for(post)  # the first bot with a token in the post's workspace
    if bot is None:
        raise ImageRefused("no bot token in the workspace")
    try:
        size = avatars.pick_size(reference.get("sizes") or [], cap)
        file = avatars.call(bot, "getFile", file_id=size["file_id"])
        if not isinstance(file, dict) or not isinstance(file.get("file_path"), str):
            raise ImageRefused("getFile gave no file_path")
        data, _ = avatars.download(bot, file["file_path"], cap)
    except (avatars.AvatarRefused, avatars.BotApiUnreachable) as exc:
        # The avatar code speaks of "the photo"; its reasons (size, type, Bot API answer) hold here too.
        raise ImageRefused(str(exc)) from None
    return data


def url_image(url, cap):
    """An image URL fetched with the links' safety rules; the declared type and the bytes must agree."""
    with PageFetcher(Limits.from_settings()) as fetcher:
        try:
            response, final_url = fetcher.follow(url, check_robots=True)
            try:
                if not 200 <= response.status_code < 300:
                    raise FetchRefused(f"http_{response.status_code}", str(final_url))
                media_type, _ = content_type_of(response)
                if media_type not in avatars.IMAGE_TYPES:
                    raise FetchRefused("content_type", media_type or "missing")
                data = fetcher.read(response, cap)
            finally:
                response.close()
        except FetchRefused as exc:
            raise ImageRefused(str(exc)) from None
    detected = avatars.image_type(data)
    if detected != media_type:
        raise ImageRefused(f"content_type: declared {media_type}, the bytes are {detected or 'not an image'}")
    return data
