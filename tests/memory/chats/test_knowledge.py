"""Knowledge extraction (topics and atoms) and the embedding batches, with the real local model."""

import numpy as np
import pytest

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.models import Atom, ChatTopic, EmbeddingProviderConfig, Message
from memory.chats.services import embedding, knowledge
from memory.chats.tasks import embed_atoms_batch, embed_messages_batch, extract_knowledge_from_messages
from memory.providers.embeddings import EmbeddingError, get_embedding_provider
from tests.memory.factories import make_workspace

from .factories import make_chat, make_messages

pytestmark = pytest.mark.django_db(transaction=True)

BACKUPS = [
    "The nightly backup of the billing database failed because the disk was full.",
    "Database backup failed again last night: no space left on the disk.",
    "Another failed nightly backup of the billing database, the volume is full.",
]
HIRING = [
    "We interviewed three candidates for the senior backend engineer role.",
    "The hiring committee meets on Thursday to discuss the backend engineer candidates.",
    "Please send me your feedback on the candidates we interviewed for the backend role.",
]


@pytest.fixture
def chat():
    return make_chat(make_workspace())


def test_messages_get_topics_by_similarity_and_atoms_deduplicated(chat, work):
    messages = make_messages(chat, BACKUPS + HIRING + ["ok"])
    extract_knowledge_from_messages.enqueue([m.pk for m in messages], chat_id=chat.pk)
    work()
    run = JobRun.objects.get(task_path="memory.chats.tasks.extract_knowledge_from_messages")
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    topic_of = dict(Message.objects.values_list("text", "topic__name"))
    backup_topics = {topic_of[t] for t in BACKUPS}
    hiring_topics = {topic_of[t] for t in HIRING}
    assert len(backup_topics) == 1 and len(hiring_topics) == 1 and backup_topics != hiring_topics
    assert ChatTopic.objects.count() == 2
    backups = ChatTopic.objects.get(name=backup_topics.pop())
    assert backups.message_count == 3 and backups.keywords
    assert any(k.lower() in " ".join(BACKUPS).lower() for k in backups.keywords)
    # "ok" is too short to be knowledge; the six others become atoms with their sources.
    assert Atom.objects.count() + run.result["atoms_merged"] == 6
    assert all(atom.source_messages.exists() for atom in Atom.objects.all())
    assert Atom.objects.filter(kind=Atom.Kind.PROBLEM).exists()


def test_a_near_duplicate_message_adds_a_source_to_the_existing_atom(chat):
    first, again = make_messages(chat, [BACKUPS[0], BACKUPS[0] + " "])
    counts = knowledge.extract_knowledge([first.pk, again.pk])
    assert counts["atoms_created"] == 1 and counts["atoms_merged"] == 1
    assert set(Atom.objects.get().source_messages.values_list("pk", flat=True)) == {first.pk, again.pk}


def test_new_messages_join_an_existing_topic(chat):
    knowledge.extract_knowledge([m.pk for m in make_messages(chat, BACKUPS[:2])])
    topic = ChatTopic.objects.get()
    later, = make_messages(chat, [BACKUPS[2]], first_id=50)
    knowledge.extract_knowledge([later.pk])
    later.refresh_from_db()
    assert later.topic == topic and ChatTopic.objects.count() == 1
    topic.refresh_from_db()
    assert topic.message_count == 3 and abs(np.linalg.norm(topic.centroid) - 1) < 1e-3


def test_embedding_batches_skip_unchanged_texts_and_re_embed_changes(chat, work):
    messages = make_messages(chat, BACKUPS)
    embed_messages_batch.enqueue([m.pk for m in messages], provider_id=EmbeddingProviderConfig.default().pk)
    work()
    assert JobRun.objects.get().result == {"success": 3, "failed": 0, "skipped": 0}
    Message.objects.filter(pk=messages[0].pk).update(text="A completely different text about lunch")
    assert embedding.embed_messages([m.pk for m in messages]) == {"success": 1, "failed": 0, "skipped": 2}
    row = Message.objects.get(pk=messages[0].pk)
    expected = get_embedding_provider().embed([row.text])[0]
    assert float(np.asarray(row.embedding) @ expected) > 0.999
    assert row.embedding_model == get_embedding_provider().model_id


def test_atoms_are_embedded_from_their_title_and_content(chat, work):
    atom = Atom.objects.create(workspace=chat.workspace, title="Backups", content=BACKUPS[0])
    embed_atoms_batch.enqueue([atom.pk])
    work()
    atom.refresh_from_db()
    assert atom.embedding is not None and atom.embedding_hash == embedding.text_hash(f"Backups\n{BACKUPS[0]}")


class FailsOnWord:
    """A provider that refuses any batch holding a poisoned text, as an HTTP provider would."""

    model_id = "test-fails-on-word"
    dimensions = 384

    def embed(self, texts):
        if any("POISON" in t for t in texts):
            raise EmbeddingError("refused")
        return get_embedding_provider().embed(texts)


def test_one_failing_item_costs_only_itself(chat):
    messages = make_messages(chat, [*BACKUPS, "POISON text the provider refuses"])
    counts = embedding.embed_messages([m.pk for m in messages], provider=FailsOnWord())
    assert counts == {"success": 3, "failed": 1, "skipped": 0}
    assert Message.objects.filter(embedding__isnull=True).get().text.startswith("POISON")
