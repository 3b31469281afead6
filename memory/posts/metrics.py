"""The posts pipeline's Prometheus series (names fixed by issue #15; alert rules in monitoring/alerts.yml)."""

from jobs.metrics import counter, gauge, histogram

TAGGING_PROCESSED = counter(
    "tagging_processed_total", "Posts through tag_post by outcome (tagged, cached, deduplicated, missing, failed).",
    ["status"])
TAGGING_CACHE_SIZE = gauge(
    "tagging_cache_size", "Entries in the worker's tagging TTL-LRU cache (the fullest worker).",
    multiprocess_mode="max")
TAGGING_CACHE_CAPACITY = gauge(
    "tagging_cache_capacity", "The tagging cache's configured size (MEMORY_POSTS_TAG_CACHE_SIZE).",
    multiprocess_mode="max")
TAGGING_REDIS_DEDUP_HITS = counter(
    "tagging_redis_dedup_hits_total", "tag_post runs skipped because another run already tagged this text.")
TAGGING_TAGS_DROPPED = counter(
    "tagging_tags_dropped_total", "Tags a tagger proposed that are not substrings of the post, dropped.")
TAGS_PERSISTED = counter(
    "tags_persisted_total", "persist_tags outcomes (created, updated, unchanged, stale, missing).", ["status"])
TAGS_PERSIST_LATENCY = histogram(
    "tags_persist_latency_seconds", "Time of one persist_tags UPSERT.")
TAGS_PERSIST_CONFLICTS = counter(
    "tags_persist_conflicts_total", "persist_tags UPSERTs that met an existing row (rewritten or left alone).")
ENRICH_PROCESSED = counter(
    "posts_enrich_processed_total", "Posts through enrich_post by outcome (enriched, failed, missing).", ["status"])
ENRICH_LATENCY = histogram("posts_enrich_latency_seconds", "Time of one enrich_post.")
INDEX_PROCESSED = counter(
    "posts_index_processed_total", "Posts through index_post by outcome (indexed, failed, missing).", ["status"])
INDEX_LATENCY = histogram("posts_index_latency_seconds", "Time of one index_post.")
OCR_PROCESSED = counter(
    "posts_ocr_processed_total", "Posts through ocr_post_image by outcome (done, unavailable, missing).", ["status"])
OCR_LATENCY = histogram("posts_ocr_latency_seconds", "Time of one ocr_post_image (fetching and reading every image).")
CLEANUP_DELETED = counter("posts_cleanup_deleted_total", "Expired posts deleted by cleanup_expired_posts.")
