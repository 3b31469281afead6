"""Chats, their authors and messages, as Telegram delivers them (Bot API updates or Desktop exports)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from pgvector.django import VectorField

from memory.core.memories import EMBEDDING_DIMENSIONS
from memory.core.tenancy import ScopedQuerySet


def new_secret():
    return secrets.token_urlsafe(24)


class TelegramBot(models.Model):
    """A bot whose webhook posts into one workspace; the path secret names it, the header proves it."""

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="telegram_bots")
    name = models.CharField(max_length=100)
    # Only needed to call setWebhook (`manage.py memory telegram_webhook`); never used by the endpoint.
    token = models.CharField(max_length=100, blank=True)
    path_secret = models.CharField(max_length=64, unique=True, default=new_secret)
    header_secret = models.CharField(max_length=256, default=new_secret,
                                     help_text="Telegram sends it as X-Telegram-Bot-Api-Secret-Token.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    def __str__(self):
        return self.name


class ChatSource(models.TextChoices):
    BOT = "bot", "Bot webhook"
    EXPORT = "export", "Desktop export"
    DEMO = "demo", "Demo"


class Chat(models.Model):
    class Type(models.TextChoices):
        PRIVATE = "private", "Private"
        GROUP = "group", "Group"
        SUPERGROUP = "supergroup", "Supergroup"
        CHANNEL = "channel", "Channel"

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="chats")
    source = models.CharField(max_length=10, choices=ChatSource.choices, default=ChatSource.BOT)
    # Bot API ids of supergroups and channels are -100<id>; exports store the bare <id>. We store the
    # Bot API form so both sources land on one row (see services.telegram_ids).
    telegram_id = models.BigIntegerField()
    title = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=12, choices=Type.choices, default=Type.GROUP)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["workspace", "telegram_id"], name="chats_chat_uniq")]

    def __str__(self):
        return self.title or str(self.telegram_id)


class Author(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="chat_authors")
    telegram_id = models.BigIntegerField()
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    username = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="chat_authors")
    # The profile photo, downloaded through the Bot API by cache_author_avatar (under MEDIA_ROOT).
    avatar = models.FileField(upload_to="chats/avatars/", max_length=500, blank=True)
    # Telegram's file_unique_id of the cached photo: the same photo is not downloaded twice.
    avatar_file_id = models.CharField(max_length=200, blank=True)
    avatar_checked_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["first_name", "last_name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "telegram_id"], name="chats_author_uniq")]

    def __str__(self):
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.username or str(self.telegram_id)


class NoiseClass(models.TextChoices):
    NOISE = "noise", "Noise"
    WEAK_SIGNAL = "weak_signal", "Weak signal"
    SIGNAL = "signal", "Signal"

    @classmethod
    def of(cls, score):
        """noise < 0.3 <= weak_signal < 0.7 <= signal."""
        if score < 0.3:
            return cls.NOISE
        return cls.WEAK_SIGNAL if score < 0.7 else cls.SIGNAL


class MessageQuerySet(ScopedQuerySet):
    workspace_field = "chat__workspace_id"

    def unscored(self):
        return self.filter(importance_score__isnull=True)

    def without_topic(self):
        return self.filter(topic__isnull=True)

    def awaiting_extraction(self):
        return self.filter(knowledge_extracted_at__isnull=True)

    def with_text(self):
        return self.exclude(text="")


class Message(models.Model):
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    telegram_id = models.BigIntegerField()
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    sent_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    text = models.TextField(blank=True)
    entities = models.JSONField(default=list, blank=True)
    reply_to = models.BigIntegerField(null=True, blank=True, help_text="Telegram id of the message replied to.")
    forwarded_from = models.CharField(max_length=255, blank=True)
    media_type = models.CharField(max_length=40, blank=True)
    # A service message (someone joined, pinned, ...): its action and actor, never text.
    service_action = models.CharField(max_length=60, blank=True)
    importance_score = models.FloatField(null=True, blank=True)
    noise_class = models.CharField(max_length=12, choices=NoiseClass.choices, blank=True, db_index=True)
    noise_factors = models.JSONField(default=dict, blank=True)
    topic = models.ForeignKey("memory.ChatTopic", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="messages")
    # Set when knowledge extraction has read the message, topic or not (chatter gets none): the
    # extraction trigger counts only messages it has not read yet.
    knowledge_extracted_at = models.DateTimeField(null=True, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_hash = models.CharField(max_length=64, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["sent_at", "telegram_id"]
        constraints = [models.UniqueConstraint(fields=["chat", "telegram_id"], name="chats_message_uniq")]
        indexes = [
            models.Index(fields=["chat", "sent_at"], name="chats_message_sent_idx"),
            # score_unscored_messages reads only these rows.
            models.Index(fields=["id"], name="chats_message_unscored_idx",
                         condition=models.Q(importance_score__isnull=True)),
        ]

    def __str__(self):
        return f"{self.chat} #{self.telegram_id}"

    @property
    def text_hash(self):
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def record_score(self, score, factors):
        """Store an importance score with its class and the factors it came from."""
        self.importance_score = round(float(score), 4)
        self.noise_class = NoiseClass.of(self.importance_score)
        self.noise_factors = factors
        self.save(update_fields=["importance_score", "noise_class", "noise_factors"])
