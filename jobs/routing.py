"""WebSocket routes of the job platform (mounted by project/asgi.py)."""

from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/runs/<uuid:run_id>/", consumers.RunConsumer.as_asgi()),
    path("ws/dashboard/", consumers.DashboardConsumer.as_asgi()),
]
