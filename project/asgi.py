"""ASGI entry point served by Daphne: HTTP now, WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
from project.embedded import ensure_embedded_services  # noqa: E402

ensure_embedded_services()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

application = ProtocolTypeRouter({"http": get_asgi_application()})
