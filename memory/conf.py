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
    CHATS_AVATAR_MAX_BYTES: int = 1024 * 1024  # a cached author photo; Telegram's largest size is ~100 KB
    TELEGRAM_API_URL: str = "https://api.telegram.org"  # Bot API base (tests point it at 127.0.0.1)
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
    POSTS_TAG_CACHE_SIZE: int = 10_000  # entries of each worker's TTL-LRU cache of tagged (post, revision, text hash)
    POSTS_TAG_CACHE_TTL_SECONDS: int = 24 * 3600
    POSTS_TAG_DEDUP_TTL_SECONDS: int = 24 * 3600  # the Redis dedup key per (post, revision, text hash)
    POSTS_CLEANUP_BATCH_SIZE: int = 500
    POSTS_IMAGE_MAX_BYTES: int = 5 * 1024 * 1024  # an attached image fetched for OCR (Bot API file or URL)
    # posts (memory/posts/): fetching linked pages, and the posts.parsed stream's consumer group
    POSTS_FETCH_ALLOW_PRIVATE: bool = False  # True lets links reach private/loopback addresses (tests)
    POSTS_FETCH_ALLOWED_NETWORKS: tuple = ()  # CIDRs reachable even when private ones are not
    POSTS_FETCH_CONNECT_TIMEOUT_SECONDS: float = 5.0
    POSTS_FETCH_READ_TIMEOUT_SECONDS: float = 10.0
    POSTS_FETCH_TOTAL_TIMEOUT_SECONDS: float = 30.0  # the whole call: redirects, robots.txt and body
    POSTS_FETCH_MAX_BYTES: int = 2 * 1024 * 1024
    POSTS_FETCH_MAX_REDIRECTS: int = 5
    POSTS_FETCH_USER_AGENT: str = "EngramBot/0.1 (+posts enrichment)"
    POSTS_FETCH_CA_BUNDLE: str = ""  # a PEM file of CAs to trust instead of the default ones
    POSTS_STREAM_NAME: str = "posts.parsed"
    POSTS_STREAM_GROUP: str = "posts"
    POSTS_STREAM_CLAIM_IDLE_MS: int = 60_000  # a pending entry idle this long is taken from its consumer
    POSTS_STREAM_BATCH: int = 100
    POSTS_STREAM_BLOCK_MS: int = 2_000  # below the Redis client's 10 s socket timeout
    POSTS_STREAM_MAX_ATTEMPTS: int = 5  # handler failures before an entry goes to <stream>.dead
    POSTS_STREAM_MAXLEN: int = 1_000_000  # publish() trims the stream to about this many entries


memory_settings = MemorySettings()
