"""Authors' profile photos, fetched through the Bot API and cached as files under MEDIA_ROOT.

getUserProfilePhotos gives the newest photo in several sizes; we take the largest whose announced
size fits MEMORY_CHATS_AVATAR_MAX_BYTES, ask getFile for its path and download it from
<MEMORY_TELEGRAM_API_URL>/file/bot<token>/<path>. The download is refused when it is larger than
the cap (announced or actually read) or is not a JPEG, PNG or WebP image by its first bytes (a
declared Content-Type other than those or application/octet-stream is refused too). The same photo
(Telegram's file_unique_id) is never downloaded twice. The bot token never appears in an error.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from django.core.files.base import ContentFile
from django.utils import timezone

from memory.conf import memory_settings

from ..models import Author, TelegramBot

TIMEOUT_SECONDS = 15
# Bot API answers to these calls are a few KB.
MAX_API_BYTES = 256 * 1024
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
# Telegram's file server may label any file as a download; then the first bytes decide.
GENERIC_TYPES = {"application/octet-stream", ""}


class AvatarRefused(Exception):
    """The photo cannot be cached: too large, not an image, or refused by the Bot API."""


class BotApiUnreachable(Exception):
    """The Bot API did not answer (worth a retry)."""


def image_type(data):
    """The image type the bytes start with, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def bot_for(author):
    """The workspace's first bot that has a token, or None."""
    return TelegramBot.objects.filter(workspace_id=author.workspace_id).exclude(token="").order_by("pk").first()


def _get(url, limit):
    """GET url; return (status, content type, body) with at most `limit` bytes read (limit + 1 = too large)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limit:
                return response.status, response.headers.get_content_type(), b"x" * (limit + 1)
            return response.status, response.headers.get_content_type(), response.read(limit + 1)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read(MAX_API_BYTES)
    except (urllib.error.URLError, OSError) as error:
        # str(error) can carry the URL, and the URL carries the token.
        raise BotApiUnreachable(f"the Bot API did not answer: {type(getattr(error, 'reason', error)).__name__}") \
            from None


def call(bot, method, **params):
    """Call a Bot API method; return its result or raise AvatarRefused with Telegram's description."""
    base = memory_settings.TELEGRAM_API_URL.rstrip("/")
    status, _, body = _get(f"{base}/bot{bot.token}/{method}?{urllib.parse.urlencode(params)}", MAX_API_BYTES)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        if status >= 500:
            raise BotApiUnreachable(f"{method} answered HTTP {status}")
        raise AvatarRefused(f"{method} answered HTTP {status} with no Bot API JSON")
    if not answer.get("ok"):
        if status >= 500 or status == 429:
            raise BotApiUnreachable(f"{method} answered HTTP {status}")
        raise AvatarRefused(f"{method} failed: {str(answer.get('description'))[:200]}")
    return answer.get("result")


def pick_size(sizes, cap):
    """The largest PhotoSize whose announced file_size fits the cap (an unannounced size is tried)."""
    fitting = [s for s in sizes if isinstance(s, dict) and isinstance(s.get("file_id"), str)
               and (s.get("file_size") or 0) <= cap]
    if not fitting:
        raise AvatarRefused(f"every size of the photo is over {cap} bytes")
    return max(fitting, key=lambda s: (s.get("width") or 0) * (s.get("height") or 0))


def download(bot, file_path, cap):
    """Download a file; return (bytes, extension) or raise AvatarRefused."""
    base = memory_settings.TELEGRAM_API_URL.rstrip("/")
    status, content_type, data = _get(f"{base}/file/bot{bot.token}/{urllib.parse.quote(file_path)}", cap)
    if status != 200:
        if status >= 500:
            raise BotApiUnreachable(f"the file download answered HTTP {status}")
        raise AvatarRefused(f"the file download answered HTTP {status}")
    if len(data) > cap:
        raise AvatarRefused(f"the photo is larger than {cap} bytes")
    if content_type not in IMAGE_TYPES and content_type not in GENERIC_TYPES:
        raise AvatarRefused(f"the photo's content type is {content_type}, not an image")
    detected = image_type(data)
    if detected is None or (content_type in IMAGE_TYPES and content_type != detected):
        raise AvatarRefused(f"the photo is not a JPEG, PNG or WebP image (declared {content_type})")
    return data, IMAGE_TYPES[detected]


def cache_avatar(author_id):
    """Fetch and store the author's newest profile photo; return what happened as a dict."""
    author = Author.objects.filter(pk=author_id).first()
    if author is None:
        return {"skipped": "missing"}
    bot = bot_for(author)
    if bot is None:
        return {"skipped": "no bot token in the workspace"}
    cap = memory_settings.CHATS_AVATAR_MAX_BYTES
    try:
        photos = call(bot, "getUserProfilePhotos", user_id=author.telegram_id, limit=1)
        newest = photos.get("photos") if isinstance(photos, dict) else None
        if not isinstance(newest, list) or not newest or not isinstance(newest[0], list):
            _checked(author)
            return {"skipped": "no profile photo"}
        size = pick_size(newest[0], cap)
        unique_id = str(size.get("file_unique_id") or size["file_id"])[:200]
        if unique_id == author.avatar_file_id and author.avatar and author.avatar.storage.exists(author.avatar.name):
            _checked(author)
            return {"unchanged": author.avatar.name}
        file = call(bot, "getFile", file_id=size["file_id"])
        if not isinstance(file, dict) or not isinstance(file.get("file_path"), str):
            raise AvatarRefused("getFile gave no file_path")
        data, extension = download(bot, file["file_path"], cap)
    except AvatarRefused as exc:
        _checked(author)
        return {"refused": str(exc)}
    previous = author.avatar.name if author.avatar else ""
    safe_id = "".join(c for c in unique_id if c.isalnum() or c in "-_")[:60] or "photo"
    author.avatar.save(f"{author.workspace_id}/{author.telegram_id}-{safe_id}{extension}", ContentFile(data),
                       save=False)
    author.avatar_file_id, author.avatar_checked_at = unique_id, timezone.now()
    author.save(update_fields=["avatar", "avatar_file_id", "avatar_checked_at"])
    if previous and previous != author.avatar.name:
        author.avatar.storage.delete(previous)
    return {"stored": author.avatar.name, "bytes": len(data)}


def _checked(author):
    author.avatar_checked_at = timezone.now()
    author.save(update_fields=["avatar_checked_at"])
