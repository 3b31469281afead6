from .chat import Author, Chat, ChatSource, Message, NoiseClass, TelegramBot
from .config import AgentConfig, EmbeddingProviderConfig
from .experiment import ClassificationExperiment
from .ingestion import MessageIngestionJob
from .knowledge import Atom, ChatTopic
from .status import ChatJobStatus
from .analysis import AnalysisRun, Proposal

__all__ = [
    "AgentConfig", "AnalysisRun", "Atom", "Author", "Chat", "ChatJobStatus", "ChatSource", "ChatTopic",
    "ClassificationExperiment", "EmbeddingProviderConfig", "Message", "MessageIngestionJob", "NoiseClass", "Proposal",
    "TelegramBot",
]
