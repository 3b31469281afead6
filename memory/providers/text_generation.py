"""The text-generation interface, its result types and errors, and the provider built from settings."""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from memory.conf import memory_settings

# The interface lives apart so the generators built here can import it without importing this module.
from memory.providers.generation_interface import (  # noqa: F401 - re-exported: callers import them from here
    Answer,
    Assessment,
    Embed,
    ProviderError,
    Reflection,
    Summary,
    TextGenerator,
    Triple,
)
from memory.providers.local_text import LocalTextGenerator
from memory.providers.openai_chat import OpenAIChatGenerator

PROVIDERS = ("local", "openai")


@dataclass(frozen=True)
class TextGenerationConfig:
    """The MEMORY_LLM_* settings that decide which generator is built."""

    provider: str
    url: str
    model: str
    api_key: str
    timeout: float

    @classmethod
    def from_settings(cls):
        """Read the settings now, so override_settings and pytest's settings fixture apply."""
        config = cls(
            provider=memory_settings.LLM_PROVIDER.strip().lower(),
            url=memory_settings.LLM_URL,
            model=memory_settings.LLM_MODEL,
            api_key=memory_settings.LLM_API_KEY,
            timeout=memory_settings.LLM_TIMEOUT_SECONDS,
        )
        if config.provider not in PROVIDERS:
            raise ImproperlyConfigured(
                f"MEMORY_LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, not {config.provider!r}."
            )
        if config.timeout <= 0:
            raise ImproperlyConfigured("MEMORY_LLM_TIMEOUT_SECONDS must be positive.")
        return config


def get_text_generator(embed: Embed | None = None) -> TextGenerator:
    """Build the generator the settings name; the local one embeds with embed or the embedding provider."""
    config = TextGenerationConfig.from_settings()
    if config.provider == "openai":
        return OpenAIChatGenerator(config.url, config.model, api_key=config.api_key, timeout=config.timeout)
    return LocalTextGenerator(embed=embed)
