"""manage.py services start|stop|status: the embedded PostgreSQL and Redis under var/."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from project.embedded import EmbeddedServices, ServiceError


class Command(BaseCommand):
    help = "Start, stop or show the embedded PostgreSQL and Redis (used when DATABASE_URL/REDIS_URL are unset)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args, action, **options):
        services = EmbeddedServices(settings.VAR_DIR)
        pg, redis = settings.EMBEDDED_POSTGRES, settings.EMBEDDED_REDIS
        if not (pg or redis) and action != "status":
            self.stdout.write("DATABASE_URL and REDIS_URL are set: no embedded service to manage.")
            return
        try:
            if action == "start":
                started = services.start(postgres=pg, redis=redis)
                self.stdout.write(f"started: {', '.join(started)}" if started else "already running")
            elif action == "stop":
                stopped = services.stop(postgres=pg, redis=redis)
                self.stdout.write(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
            else:
                status = services.status()
                status["postgres"]["embedded"], status["redis"]["embedded"] = pg, redis
                self.stdout.write(json.dumps(status, indent=2))
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
