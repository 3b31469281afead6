"""Topics of a memory: its YAKE keyphrases, grouped under their head word in the project's tree."""

from django.db import transaction

from memory.models import Topic
from memory.providers.keywords import extract_keyphrases, is_name

MAX_TOPICS = 6


def _topic(memory, name, parent=None):
    topic, _ = Topic.objects.get_or_create(
        project=memory.project, parent=parent, name=name, defaults={"workspace_id": memory.workspace_id},
    )
    return topic


def assign_topics(memory, max_topics=MAX_TOPICS):
    """Replace the memory's topics with its keyphrases; return their names.

    Every topic name is an exact substring of the memory. A phrase of several words hangs under
    its last word ("schema migration" under "migration"), which is in the memory too: related
    phrases from many memories meet under one parent. A name stands alone: "Acme Corp" and
    "Globex Corp" are not kinds of "Corp", nor "Alice Chen" a kind of "Chen".
    """
    phrases = [k.phrase for k in extract_keyphrases(memory.content, max_phrases=max_topics)]
    with transaction.atomic():
        topics = []
        for phrase in phrases:
            words = phrase.split()
            parent = _topic(memory, words[-1]) if len(words) > 1 and not is_name(phrase) else None
            topics.append(_topic(memory, phrase, parent))
        memory.topics.set(topics)
    return phrases
