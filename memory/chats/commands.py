"""The chat subcommands of `manage.py memory`: import_telegram and telegram_webhook."""

import json
import sys
import time
import urllib.parse
import urllib.request

from django.core.management.base import CommandError
from django.db import transaction

from memory.conf import memory_settings
from memory.core.tenancy import Workspace

from .models import MessageIngestionJob, TelegramBot
from .services.ingestion import ImportFailed
from .services.ingestion_jobs import run_ingestion



def add_import_telegram(subparsers):
    parser = subparsers.add_parser("import_telegram", help="Import a Telegram Desktop export (result.json).")
    parser.add_argument("file")
    parser.add_argument("--workspace", default="demo", help="Slug of the workspace to import into (default: demo).")
    parser.add_argument("--no-score", action="store_true", help="Do not queue scoring of the new messages.")
    parser.set_defaults(handler=import_telegram)


def progress_bar(stream, width=30):
    state = {"shown": 0.0}

    def show(done, total, message, progress):
        now = time.monotonic()
        if now - state["shown"] < 0.1 and progress.bytes_read < progress.bytes_total:
            return
        state["shown"] = now
        fraction = progress.bytes_read / progress.bytes_total if progress.bytes_total else 0
        filled = int(width * fraction)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:6.1%} {message}")
        stream.flush()
    return show


def import_telegram(command, options):
    """Import in this process with a progress bar; the job row records it like an uploaded one."""
    workspace = Workspace.objects.filter(slug=options["workspace"]).first()
    if workspace is None:
        raise CommandError(f"no workspace {options['workspace']!r} (see the admin, or run `manage.py engram_demo`)")
    job = MessageIngestionJob.objects.create(workspace=workspace, source_file=options["file"],
                                             original_name=options["file"])
    try:
        counters = run_ingestion(job.pk, report=progress_bar(sys.stderr))
    except (ImportFailed, OSError) as exc:
        sys.stderr.write("\n")
        raise CommandError(f"import {job.pk} failed: {exc}") from exc
    sys.stderr.write("\n")
    command.stdout.write(f"import {job.pk}: " + " ".join(f"{k}={v}" for k, v in counters.items()))
    if not options["no_score"] and (counters["created"] or counters["updated"]):
        from .tasks import score_unscored_messages  # noqa: PLC0415 - tasks import the services

        with transaction.atomic():
            result = score_unscored_messages.enqueue()
        command.stdout.write(f"scoring queued: run {result.id}")


def add_telegram_webhook(subparsers):
    parser = subparsers.add_parser("telegram_webhook", help="Point a bot's webhook at this Engram (setWebhook).")
    parser.add_argument("bot", help="Name of the TelegramBot row (it holds the token and the secrets).")
    parser.add_argument("base_url", help="Public HTTPS base URL of this Engram, e.g. https://engram.example.com")
    parser.set_defaults(handler=telegram_webhook)


def telegram_webhook(command, options):
    """Call Telegram's setWebhook with the bot's path secret and header secret."""
    bot = TelegramBot.objects.filter(name=options["bot"]).first()
    if bot is None:
        raise CommandError(f"no TelegramBot named {options['bot']!r}")
    if not bot.token:
        raise CommandError(f"bot {bot.name!r} has no token; set it in the admin first")
    url = f"{options['base_url'].rstrip('/')}/webhooks/telegram/{bot.path_secret}"
    body = urllib.parse.urlencode({
        "url": url, "secret_token": bot.header_secret,
        "allowed_updates": json.dumps(["message", "edited_message", "channel_post", "edited_channel_post"]),
    }).encode()
    request = urllib.request.Request(f"{memory_settings.TELEGRAM_API_URL.rstrip('/')}/bot{bot.token}/setWebhook", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
    except OSError as exc:
        raise CommandError(f"setWebhook failed: {exc}") from exc
    if not answer.get("ok"):
        raise CommandError(f"Telegram refused: {answer.get('description')}")
    command.stdout.write(f"webhook of {bot.name} set to {url.replace(bot.path_secret, '<path-secret>')}")
