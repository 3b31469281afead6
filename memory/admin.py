"""The memory admin: each capability package registers its own models (Django's autodiscover imports this)."""

from memory.core import admin as core_admin  # noqa: F401
from memory.enrichment import admin as enrichment_admin  # noqa: F401
from memory.graph import admin as graph_admin  # noqa: F401
from memory.insights import admin as insights_admin  # noqa: F401
from memory.sessions import admin as sessions_admin  # noqa: F401
from memory.documents import admin as documents_admin  # noqa: F401
from memory.chats import admin as chats_admin  # noqa: F401
from memory.posts import admin as posts_admin  # noqa: F401
