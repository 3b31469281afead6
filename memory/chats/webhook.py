"""POST /webhooks/telegram/<path-secret>: Telegram's Bot API webhook.

Telegram retries a delivery until it gets a 2xx, so a valid update always gets 200 (even a
duplicate); a wrong secret gets 403 and a malformed update 400 with the reason.
"""

import hmac
import json

from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from memory.posts.intake import telegram_post

from .models import TelegramBot
from .services.webhook import save_telegram_message
from .telegram import InvalidTelegramData

SECRET_HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"
# Telegram's updates are a few KB; a caption or text of a few thousand characters at most.
MAX_BODY_BYTES = 1_000_000


@csrf_exempt
@require_POST
def telegram_webhook(request, path_secret):
    bot = TelegramBot.objects.select_related("workspace").filter(path_secret=path_secret).first()
    header = request.META.get(SECRET_HEADER, "")
    # Same answer for an unknown path and a wrong header: the path secret stays unguessable.
    if bot is None or not hmac.compare_digest(header.encode(), bot.header_secret.encode()):
        return HttpResponseForbidden("wrong secret")
    # Checked before request.body is read: Django would refuse a large body with a bare 400.
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
        return JsonResponse({"ok": False, "error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
    try:
        update = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        return JsonResponse({"ok": False, "error": f"invalid JSON: {exc}"}, status=400)
    try:
        outcome, message_id = save_telegram_message(bot, update)
        telegram_post(bot.workspace, update)  # a channel post also enters the posts pipeline
    except InvalidTelegramData as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=400)
    return JsonResponse({"ok": True, "outcome": outcome, "message_id": message_id})
