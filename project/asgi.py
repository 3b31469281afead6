"""ASGI entry point served by Daphne: HTTP, and WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
from project.embedded import ensure_embedded_services  # noqa: E402

ensure_embedded_services()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

# Sets Django up: the routes import consumers, which import models.
http_application = get_asgi_application()

from django.conf import settings  # noqa: E402

if settings.DEBUG:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    # Daphne serves no static files (runserver would wrap the app like this); in production the
    # reverse proxy serves collectstatic's output.
    http_application = ASGIStaticFilesHandler(http_application)

from jobs.routing import websocket_urlpatterns as jobs_routes  # noqa: E402
from memory.routing import websocket_urlpatterns as memory_routes  # noqa: E402

websocket_urlpatterns = [*jobs_routes, *memory_routes]

application = ProtocolTypeRouter({
    "http": http_application,
    # A page on another site must not open a socket with the visitor's session cookie.
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
