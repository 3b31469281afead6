"""Topics of a memory: its YAKE keyphrases, grouped under their head word in the project's tree."""

from django.db import transaction

from memory.models import Topic
from memory.providers.keywords import extract_keyphrases, is_name, is_topic_head, phrase_key

MAX_TOPICS = 6


def _topic(memory, name, parent=None):
    """The project's topic for name under parent: an existing near-duplicate ("Deployments") if any."""
    key = phrase_key(name)
    siblings = Topic.objects.filter(project=memory.project, parent=parent, name__istartswith=name[:3])
    twin = next((topic for topic in siblings.order_by("pk") if phrase_key(topic.name) == key), None)
    if twin is not None:
        return twin
    topic, _ = Topic.objects.get_or_create(
        project=memory.project, parent=parent, name=name, defaults={"workspace_id": memory.workspace_id},
    )
    return topic


def assign_topics(memory, max_topics=MAX_TOPICS):
    """Replace the memory's topics with its keyphrases; return their names.

    Every topic name is an exact substring of the memory that first named it. A phrase of several words hangs under
    its last word ("schema migration" under "migration"), which is in the memory too: related
    phrases from many memories meet under one parent. A name stands alone: "Acme Corp" and
    "Globex Corp" are not kinds of "Corp", nor "Alice Chen" a kind of "Chen"; nor does a phrase hang
    under a head too general or a measure ("front end" not under "end", "20 percent" is no topic).
    A name that differs from an existing topic only in case or plural reuses it.
    """
    phrases = [k.phrase for k in extract_keyphrases(memory.content, max_phrases=max_topics)]
    with transaction.atomic():
        topics = []
        for phrase in phrases:
            words = phrase.split()
            parent = (_topic(memory, words[-1])
                      if len(words) > 1 and not is_name(phrase) and is_topic_head(words[-1]) else None)
            topics.append(_topic(memory, phrase, parent))
        memory.topics.set(topics)
    return phrases
