"""The Telegram webhook's answer time: what the issue asks to stay well under 50 ms.

    .venv/bin/python bench/webhook_latency.py [--updates 500]

Updates go through Django's test client in this process (server time, no network) into a chat
that already holds --existing messages; the request stores the message and queues its scoring
(no worker runs: scoring is the job's). Baseline in the same run: GET /healthz, the cheapest
request the project answers, so the ratio means something on a loaded machine. Last line:

    webhook_latency: updates=... p50_ms=... p95_ms=... healthz_p50_ms=... ratio_p50=...
"""

import argparse
import json
import statistics
import time

from cluster import start_cluster


def update(n):
    return {"update_id": n, "message": {
        "message_id": n, "date": 1_700_000_000 + n, "text": f"message number {n} about the backups",
        "chat": {"id": -1001234567890, "type": "supergroup", "title": "Platform"},
        "from": {"id": 100 + n % 7, "is_bot": False, "first_name": f"User{n % 7}"}}}


def percentile(values, q):
    return sorted(values)[int(q * (len(values) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=500)
    parser.add_argument("--existing", type=int, default=10_000)
    options = parser.parse_args()
    services, _ = start_cluster("w")
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client

        from memory.chats.models import TelegramBot
        from memory.models import Workspace

        settings.ALLOWED_HOSTS = ["testserver"]
        call_command("migrate", verbosity=0)
        bot = TelegramBot.objects.create(workspace=Workspace.objects.create(name="Bench", slug="bench"),
                                         name="benchbot")
        client = Client()
        url = f"/webhooks/telegram/{bot.path_secret}"
        headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": bot.header_secret}

        def post(n):
            started = time.perf_counter()
            response = client.post(url, json.dumps(update(n)), content_type="application/json", **headers)
            assert response.status_code == 200, response.content
            return (time.perf_counter() - started) * 1000

        for n in range(options.existing):  # the chat's history; timed requests land on a real table
            post(n)
        webhook = [post(options.existing + n) for n in range(options.updates)]
        healthz = []
        for _ in range(options.updates):
            started = time.perf_counter()
            client.get("/healthz")
            healthz.append((time.perf_counter() - started) * 1000)
        from django.db import connections

        connections.close_all()
    finally:
        services.destroy()
    p50, p95, base = statistics.median(webhook), percentile(webhook, 0.95), statistics.median(healthz)
    print(f"webhook: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {options.updates} updates "
          f"(chat of {options.existing:,} messages); /healthz p50 {base:.2f} ms")
    print(f"webhook_latency: updates={options.updates} p50_ms={p50:.1f} p95_ms={p95:.1f} "
          f"healthz_p50_ms={base:.2f} ratio_p50={p50 / base:.1f}")


if __name__ == "__main__":
    main()
