"""WebSocket routes of the memory app (mounted by project/asgi.py beside the job platform's)."""

from django.urls import path

from .chats import live as chats_live
from .posts import live as posts_live

websocket_urlpatterns = [
    path("ws/chats/<int:chat_id>/", chats_live.ChatConsumer.as_asgi()),
    path("ws/posts/", posts_live.PostsConsumer.as_asgi()),
]
