"""manage.py engram_demo: create the demo admin (printing its login once) and the demo memories."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from memory.demo import load_demo

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "engram-demo"


class Command(BaseCommand):
    help = "Create the local demo superuser if it does not exist."

    def handle(self, *args, **options):
        users = get_user_model().objects
        admin = users.filter(username=DEMO_USERNAME).first()
        if admin is not None:
            self.stdout.write(f"demo admin exists: log in as {DEMO_USERNAME!r}")
        else:
            admin = users.create_superuser(DEMO_USERNAME, "admin@example.com", DEMO_PASSWORD)
            self.stdout.write(self.style.SUCCESS(
                f"created the demo admin: username {DEMO_USERNAME!r}, password {DEMO_PASSWORD!r} (local use only)"
            ))
        if load_demo(owner=admin) is not None:
            self.stdout.write("loaded the demo memories; the workers enrich them (topics, embeddings, graph, reflection)")
