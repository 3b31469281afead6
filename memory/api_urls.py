from django.urls import path

from memory.sessions import api as sessions
from memory.search import api as search
from memory.insights import api as decisions
from memory.graph import api as graph
from memory.enrichment import api as topics
from memory.core import api as memories
from memory.posts import api as posts

app_name = "memory_api"

urlpatterns = [
    path("memory", memories.memory_collection, name="memories"),
    path("memory/<int:pk>", memories.memory_detail, name="memory"),
    path("search", search.search, name="search"),
    path("topics/tree", topics.topics_tree, name="topic-tree"),
    path("graph", graph.graph, name="graph"),
    path("sessions/<int:pk>/context", sessions.session_context, name="session-context"),
    path("sessions/<int:pk>/messages", sessions.post_message, name="session-messages"),
    path("decisions", decisions.create_decision, name="decisions"),
    path("openapi.json", memories.openapi_schema, name="openapi"),
    path("posts", posts.post_collection, name="posts"),
]
