from memory.insights.decision import Decision
from memory.graph.models import Entity, EntityMerge, Relation
from memory.insights.models import Anomaly, Reflection
from memory.core.memories import EMBEDDING_DIMENSIONS, Layer, Memory, Source, content_hash
from memory.sessions.models import Session
from memory.core.tenancy import Membership, Project, Workspace
from memory.core.tokens import ApiToken
from memory.enrichment.topics import Topic
from memory.chats.models import *  # noqa: F401,F403  (Chat, Message, Atom, AnalysisRun, ...)
from memory.documents.models import *  # noqa: F401,F403  (Document, Chunk, ValidationTask, ...)
from memory.posts.models import *  # noqa: F401,F403  (posts: Post, PostEnrichment, PostCleanupCheckpoint)

__all__ = [
    "Anomaly", "ApiToken", "Decision", "EMBEDDING_DIMENSIONS", "Entity", "EntityMerge", "Layer", "Memory", "Membership",
    "Project", "Reflection", "Relation", "Session", "Source", "Topic", "Workspace", "content_hash",
]
