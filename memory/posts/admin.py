"""Admin for posts and their enrichments: browse them, re-run a stage."""

from django.contrib import admin, messages

from .models import Post, PostCleanupCheckpoint, PostEnrichment


class EnrichmentInline(admin.TabularInline):
    model = PostEnrichment
    extra = 0
    can_delete = False
    fields = ["kind", "tags_hash", "updated_at", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workspace", "channel", "source", "stage", "published_at", "expires_at"]
    list_filter = ["stage", "source", "workspace"]
    search_fields = ["external_id", "channel", "text"]
    list_select_related = ["workspace"]
    show_full_result_count = False
    readonly_fields = ["text_hash", "events", "stage", "created_at", "updated_at"]
    exclude = ["embedding"]
    inlines = [EnrichmentInline]
    actions = ["tag_again", "enrich_again", "ocr_again", "index_again"]

    def _queue(self, request, queryset, task, label, **kwargs):
        ids = list(queryset.values_list("pk", flat=True))
        task.enqueue_many([(pk,) for pk in ids], **kwargs)
        self.message_user(request, f"Queued {label} for {len(ids)} post(s).", messages.SUCCESS)

    @admin.action(description="Tag again (even an unchanged text)", permissions=["change"])
    def tag_again(self, request, queryset):
        from .tasks import tag_post  # noqa: PLC0415 - the admin loads before the task catalog

        self._queue(request, queryset, tag_post, "tagging", force=True)

    @admin.action(description="Enrich again (crawl the links)", permissions=["change"])
    def enrich_again(self, request, queryset):
        from .tasks import enrich_post  # noqa: PLC0415

        self._queue(request, queryset, enrich_post, "enrichment")

    @admin.action(description="Read the images again (OCR), then index", permissions=["change"])
    def ocr_again(self, request, queryset):
        from .tasks import ocr_post_image  # noqa: PLC0415

        self._queue(request, queryset.exclude(images=[]), ocr_post_image, "OCR of the images")

    @admin.action(description="Index again", permissions=["change"])
    def index_again(self, request, queryset):
        from .tasks import index_post  # noqa: PLC0415

        self._queue(request, queryset, index_post, "indexing")


@admin.register(PostEnrichment)
class PostEnrichmentAdmin(admin.ModelAdmin):
    list_display = ["post", "kind", "tags_hash", "updated_at"]
    list_filter = ["kind"]
    list_select_related = ["post"]
    readonly_fields = ["post", "kind", "data", "tags_hash", "updated_at"]
    show_full_result_count = False
    actions = ["rerun_stage"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Re-run the stage that wrote the selected rows", permissions=["change"])
    def rerun_stage(self, request, queryset):
        from .tasks import enrich_post, ocr_post_image, tag_post  # noqa: PLC0415

        tags = list(queryset.filter(kind=PostEnrichment.Kind.TAGS).values_list("post_id", flat=True))
        crawls = list(queryset.filter(kind=PostEnrichment.Kind.CRAWL).values_list("post_id", flat=True))
        ocrs = list(queryset.filter(kind=PostEnrichment.Kind.OCR).values_list("post_id", flat=True))
        tag_post.enqueue_many([(pk,) for pk in tags], force=True)
        enrich_post.enqueue_many([(pk,) for pk in crawls])
        ocr_post_image.enqueue_many([(pk,) for pk in ocrs])
        skipped = queryset.count() - len(tags) - len(crawls) - len(ocrs)
        self.message_user(request, f"Queued tagging for {len(tags)}, enrichment for {len(crawls)}, "
                                   f"OCR for {len(ocrs)}; skipped {skipped} of other kinds.", messages.SUCCESS)


@admin.register(PostCleanupCheckpoint)
class PostCleanupCheckpointAdmin(admin.ModelAdmin):
    list_display = ["name", "cutoff", "last_id", "deleted", "updated_at"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False
