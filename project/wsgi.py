"""WSGI entry point (the ASGI app in asgi.py is what Daphne serves)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
from project.embedded import ensure_embedded_services  # noqa: E402

ensure_embedded_services()
application = get_wsgi_application()
