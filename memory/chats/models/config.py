"""Which provider embeds and which agent extracts knowledge or analyses: rows an operator edits in the admin."""

from django.core.validators import MinValueValidator
from django.db import models


class EmbeddingProviderConfig(models.Model):
    """An embedding provider: `local` uses MEMORY_EMBEDDINGS_* (the packaged ONNX MiniLM by default)."""

    class Kind(models.TextChoices):
        LOCAL = "local", "Local (settings)"
        OPENAI = "openai", "OpenAI-compatible /v1/embeddings"
        OLLAMA = "ollama", "Ollama /api/embed"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LOCAL)
    url = models.CharField(max_length=300, blank=True)
    model = models.CharField(max_length=200, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["is_default"], condition=models.Q(is_default=True),
                                               name="chats_one_default_embedding_provider")]

    def __str__(self):
        return self.name

    @classmethod
    def default(cls):
        """The default row, created as the local provider the first time it is asked for."""
        row = cls.objects.filter(is_default=True).first()
        if row is None:
            row, _ = cls.objects.get_or_create(name="local", defaults={"kind": cls.Kind.LOCAL, "is_default": True})
        return row


class AgentConfig(models.Model):
    """Who does a piece of thinking: the local extractor/classifier, or an LLM with parameters."""

    class Purpose(models.TextChoices):
        KNOWLEDGE = "knowledge", "Knowledge extraction"
        ANALYSIS = "analysis", "Analysis runs"

    class Kind(models.TextChoices):
        LOCAL = "local", "Local (YAKE keywords / calibrated classifier)"
        LLM = "llm", "OpenAI-compatible chat completions (url and model below)"

    name = models.CharField(max_length=100, unique=True)
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LOCAL)
    # The LLM's endpoint and model; empty takes MEMORY_LLM_URL / MEMORY_LLM_MODEL. The API key is
    # never stored here: it is MEMORY_LLM_API_KEY, read from the environment.
    url = models.CharField(max_length=300, blank=True, help_text="e.g. http://127.0.0.1:11434/v1 (Ollama)")
    model = models.CharField(max_length=200, blank=True)
    timeout_seconds = models.FloatField(default=60.0, validators=[MinValueValidator(0.1)])
    parameters = models.JSONField(default=dict, blank=True,
                                  help_text='e.g. {"similarity_threshold": 0.9, "max_keywords": 5}')
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["purpose", "name"]
        constraints = [models.UniqueConstraint(fields=["purpose"], condition=models.Q(is_default=True),
                                               name="chats_one_default_agent_per_purpose")]

    def __str__(self):
        return self.name

    @property
    def is_llm(self):
        return self.kind == self.Kind.LLM

    @classmethod
    def default(cls, purpose):
        row = cls.objects.filter(purpose=purpose, is_default=True).first()
        if row is None:
            row, _ = cls.objects.get_or_create(name=f"local {purpose}",
                                               defaults={"purpose": purpose, "is_default": True})
        return row
