"""Admin for chats: browse messages and knowledge, edit providers and agents, re-run jobs."""

from django.contrib import admin, messages

from jobs.context import triggered_by

from .models import (
    AgentConfig, AnalysisRun, Atom, Author, Chat, ChatJobStatus, ChatTopic, ClassificationExperiment,
    EmbeddingProviderConfig, Message, MessageIngestionJob, Proposal, TelegramBot,
)
from .services.review import accept_proposal, reject_proposal
from .services.starting import rerun


class RerunMixin:
    """A `re-run` action for finished rows: it touches only those and says how many it started."""

    @admin.action(description="Re-run the selected finished rows", permissions=["change"])
    def rerun_selected(self, request, queryset):
        eligible = queryset.filter(status__in=[ChatJobStatus.COMPLETED, ChatJobStatus.FAILED])
        started = [rerun(row) for row in eligible]
        skipped = queryset.count() - len(started)
        self.message_user(request, f"Re-ran {len(started)}; skipped {skipped} still pending or running.",
                          messages.SUCCESS if started else messages.WARNING)


@admin.register(TelegramBot)
class TelegramBotAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "path_secret", "created_at"]
    list_filter = ["workspace"]
    readonly_fields = ["created_at"]


@admin.register(Chat)
class ChatAdmin(admin.ModelAdmin):
    list_display = ["__str__", "workspace", "type", "source", "telegram_id"]
    list_filter = ["source", "type", "workspace"]
    search_fields = ["title", "telegram_id"]
    actions = ["extract_knowledge_now"]

    @admin.action(description="Extract knowledge from untopiced messages", permissions=["change"])
    def extract_knowledge_now(self, request, queryset):
        from .tasks import extract_knowledge_from_messages

        for chat in queryset:
            ids = list(chat.messages.without_topic().with_text().values_list("pk", flat=True)[:5000])
            if ids:
                extract_knowledge_from_messages.enqueue(ids, chat_id=chat.pk)
        self.message_user(request, f"Queued knowledge extraction for {queryset.count()} chat(s).", messages.SUCCESS)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "username", "telegram_id", "user", "message_count", "workspace"]
    search_fields = ["first_name", "last_name", "username", "telegram_id"]
    list_filter = ["workspace"]
    autocomplete_fields = ["user"]
    readonly_fields = ["avatar", "avatar_file_id", "avatar_checked_at"]
    actions = ["fetch_avatars"]

    @admin.action(description="Fetch profile photos through the workspace's bot", permissions=["change"])
    def fetch_avatars(self, request, queryset):
        from .tasks import cache_author_avatar  # noqa: PLC0415 - tasks import the admin's models late

        ids = list(queryset.values_list("pk", flat=True))
        for author_id in ids:
            cache_author_avatar.enqueue(author_id)
        self.message_user(request, f"Queued a profile photo fetch for {len(ids)} author(s).", messages.SUCCESS)


class NoiseFilter(admin.SimpleListFilter):
    title = "score"
    parameter_name = "scored"

    def lookups(self, request, model_admin):
        return [("no", "Not scored yet"), ("yes", "Scored")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(importance_score__isnull=True)
        if self.value() == "yes":
            return queryset.filter(importance_score__isnull=False)
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author", "sent_at", "short_text", "importance_score", "noise_class", "topic"]
    list_filter = ["noise_class", NoiseFilter, "media_type", "chat"]
    list_select_related = ["chat", "author", "topic"]
    search_fields = ["text"]
    show_full_result_count = False
    readonly_fields = ["embedding_hash", "embedding_model", "noise_factors"]
    exclude = ["embedding"]
    raw_id_fields = ["chat", "author", "topic"]
    actions = ["rescore", "embed_now", "extract_knowledge_now"]

    @admin.display(description="text")
    def short_text(self, obj):
        return obj.text[:80]

    @admin.action(description="Score again", permissions=["change"])
    def rescore(self, request, queryset):
        from .tasks import score_message

        with triggered_by(user=request.user):
            results = score_message.enqueue_many([(pk,) for pk in queryset.values_list("pk", flat=True)])
        self.message_user(request, f"Queued {len(results)} scoring run(s).", messages.SUCCESS)

    @admin.action(description="Embed now", permissions=["change"])
    def embed_now(self, request, queryset):
        from .tasks import embed_messages_batch

        result = embed_messages_batch.enqueue(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued embedding run {result.id}.", messages.SUCCESS)

    @admin.action(description="Extract knowledge", permissions=["change"])
    def extract_knowledge_now(self, request, queryset):
        from .tasks import extract_knowledge_from_messages

        result = extract_knowledge_from_messages.enqueue(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued knowledge extraction run {result.id}.", messages.SUCCESS)


@admin.register(ChatTopic)
class ChatTopicAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "message_count", "keywords"]
    list_filter = ["workspace"]
    search_fields = ["name"]
    exclude = ["centroid"]


@admin.register(Atom)
class AtomAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "topic", "workspace", "created_at"]
    list_filter = ["kind", "workspace"]
    search_fields = ["title", "content"]
    exclude = ["embedding"]
    readonly_fields = ["embedding_hash", "embedding_model"]
    raw_id_fields = ["source_messages", "topic"]
    actions = ["embed_now"]

    @admin.action(description="Embed now", permissions=["change"])
    def embed_now(self, request, queryset):
        from .tasks import embed_atoms_batch

        result = embed_atoms_batch.enqueue(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Queued embedding run {result.id}.", messages.SUCCESS)


@admin.register(MessageIngestionJob)
class MessageIngestionJobAdmin(RerunMixin, admin.ModelAdmin):
    list_display = ["__str__", "status", "seen", "created", "updated", "duplicates", "failed", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["status", "error_message", "run_id", "started_at", "finished_at", "seen", "created",
                       "updated", "duplicates", "skipped_service", "skipped_media", "failed", "bytes_total",
                       "bytes_read"]
    actions = ["rerun_selected"]


class ProposalInline(admin.TabularInline):
    model = Proposal
    extra = 0
    fields = ["kind", "text", "confidence", "review", "reviewed_by", "reviewed_at", "memory"]
    readonly_fields = fields
    can_delete = False


@admin.register(AnalysisRun)
class AnalysisRunAdmin(RerunMixin, admin.ModelAdmin):
    list_display = ["__str__", "chat", "status", "messages_kept", "batches_done", "proposals_count", "created_at"]
    list_filter = ["status", "use_rag"]
    readonly_fields = ["status", "error_message", "run_id", "started_at", "finished_at", "messages_in_window",
                       "messages_kept", "batches_total", "batches_done", "proposals_count", "error_log", "timings"]
    inlines = [ProposalInline]
    actions = ["rerun_selected"]


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "confidence", "review", "reviewed_by", "run"]
    list_filter = ["kind", "review"]
    readonly_fields = ["review", "reviewed_by", "reviewed_at", "memory"]
    raw_id_fields = ["run", "source_messages"]
    actions = ["accept_selected", "reject_selected"]

    def _review(self, request, queryset, review, eligible):
        changed = 0
        for proposal in queryset.filter(review__in=eligible):
            try:
                review(proposal, request.user)
            except ValueError:
                continue  # another reviewer got there first
            changed += 1
        return changed

    @admin.action(description="Accept the selected open proposals", permissions=["change"])
    def accept_selected(self, request, queryset):
        changed = self._review(request, queryset, accept_proposal, [Proposal.Review.OPEN])
        self.message_user(request, f"Accepted {changed} open proposal(s).", messages.SUCCESS)

    @admin.action(description="Reject the selected open proposals", permissions=["change"])
    def reject_selected(self, request, queryset):
        changed = self._review(request, queryset, reject_proposal, [Proposal.Review.OPEN])
        self.message_user(request, f"Rejected {changed} open proposal(s).", messages.SUCCESS)


@admin.register(ClassificationExperiment)
class ClassificationExperimentAdmin(RerunMixin, admin.ModelAdmin):
    list_display = ["name", "classifier", "status", "samples", "accuracy", "macro_f1", "created_at"]
    list_filter = ["status", "classifier", "dataset"]
    readonly_fields = ["status", "error_message", "run_id", "started_at", "finished_at", "samples", "accuracy",
                       "macro_f1", "labels", "per_class", "confusion_matrix", "timings"]
    actions = ["rerun_selected"]


@admin.register(EmbeddingProviderConfig)
class EmbeddingProviderConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "model", "url", "is_default"]


@admin.register(AgentConfig)
class AgentConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "kind", "model", "url", "is_default", "parameters"]
    list_filter = [("purpose", admin.ChoicesFieldListFilter), "kind"]
