from .decision import Decision
from .graph import Entity, EntityMerge, Relation
from .insight import Anomaly, Reflection
from .memory import EMBEDDING_DIMENSIONS, Layer, Memory, Source, content_hash
from .session import Session
from .tenancy import Membership, Project, Workspace
from .token import ApiToken
from .topic import Topic
from memory.chats.models import *  # noqa: F401,F403  (chats: Chat, Message, Atom, ...)

__all__ = [
    "Anomaly", "ApiToken", "Decision", "EMBEDDING_DIMENSIONS", "Entity", "EntityMerge", "Layer", "Memory", "Membership",
    "Project", "Reflection", "Relation", "Session", "Source", "Topic", "Workspace", "content_hash",
]
