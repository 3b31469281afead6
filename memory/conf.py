"""Every MEMORY_* setting with its type and default, in one place (read lazily: see jobs.conf)."""

from types import MappingProxyType

from jobs.conf import AppSettings


class MemorySettings(AppSettings):
    prefix = "MEMORY_"

    RETENTION_DAYS: int = 0  # episodic memories older than this are pruned; 0 keeps them
    SESSION_IDLE_DAYS: int = 30
    API_TOKEN_DAYS: int = 90  # a new API token's lifetime; 0 = never expires
    LOG_LEVEL: str = "INFO"
    DECAY_FLOOR: float = 0.05
    DECAY_RATES: MappingProxyType = MappingProxyType({})  # per-layer daily rate overrides
    EMBEDDINGS_PROVIDER: str = "local"
    EMBEDDINGS_MODEL_DIR: str = ""
    EMBEDDINGS_URL: str = ""
    EMBEDDINGS_MODEL: str = ""
    EMBEDDINGS_API_KEY: str = ""
    EMBEDDINGS_BATCH_SIZE: int = 32
    EMBEDDINGS_DIMENSIONS: int = 384  # the HTTP providers' expected width (the local model's is fixed)
    EMBEDDINGS_TIMEOUT_SECONDS: float = 30.0
    CHATS_UPLOAD_MAX_BYTES: int = 200 * 1024 * 1024
    CHATS_UPLOAD_DIR: str = ""  # empty: <ENGRAM_VAR_DIR>/chats/uploads
    LLM_PROVIDER: str = "local"
    LLM_URL: str = "https://api.openai.com"
    LLM_MODEL: str = "gpt-4o-mini"
    LLM_API_KEY: str = ""
    LLM_TIMEOUT_SECONDS: float = 60.0
    DOCUMENTS_MAX_BYTES: int = 50 * 1024 * 1024
    DOCUMENTS_MAX_UNCOMPRESSED_BYTES: int = 200 * 1024 * 1024  # a DOCX's zip members, against zip bombs
    DOCUMENTS_VALIDATION_THRESHOLD: float = 0.8
    DOCUMENTS_OCR_LANGUAGES: str = "eng"
    DOCUMENTS_BACKUP_DIR: str = ""  # the project puts it under var/backups
    DOCUMENTS_BACKUP_KEEP: int = 7
    DOCUMENTS_BACKUP_MAX_AGE_DAYS: int = 30
    DOCUMENTS_SEARCH_CACHE_SECONDS: int = 300
    POSTS_TTL_DAYS: int = 30  # a post expires this long after it was published; 0 = never
    POSTS_TAGGER: str = "local"  # local (YAKE keyphrases) or llm (the MEMORY_LLM_* OpenAI-compatible chat)
    POSTS_MAX_TAGS: int = 8
    POSTS_TAG_CACHE_SIZE: int = 10_000  # entries of each worker's TTL-LRU cache of tagged (post, text hash)
    POSTS_TAG_CACHE_TTL_SECONDS: int = 24 * 3600
    POSTS_TAG_DEDUP_TTL_SECONDS: int = 24 * 3600  # the Redis dedup key per (post, text hash)
    POSTS_CLEANUP_BATCH_SIZE: int = 500


memory_settings = MemorySettings()
