"""The query is embedded in a thread of its own while the text side's pool is read."""

import os
import threading

import pytest
from django.db import connection

from memory.enrichment.embedding import embed_memories
from memory.models import Memory
from memory.providers.embeddings import EmbeddingError, get_embedding_provider
from memory.search import hybrid
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def memories():
    project = make_project(make_workspace())
    for text in ["Alice adopted a beagle puppy called Biscuit.", "The deploy failed twice before lunch."]:
        make_memory(project, text)
    memories = Memory.objects.filter(project=project)
    embed_memories(list(memories.values_list("pk", flat=True)))
    return memories


class WaitingProvider:
    """The real model, which first waits (at most `timeout` s) for the search to send a statement."""

    def __init__(self, timeout=10.0):
        self.model = get_embedding_provider()
        self.statement_sent = threading.Event()
        self.saw_statement = None
        self.timeout = timeout

    def embed(self, texts):
        self.saw_statement = self.statement_sent.wait(self.timeout)
        return self.model.embed(texts)


def test_the_text_pool_is_read_while_the_query_is_embedded(memories):
    hybrid.hybrid_search(memories, "Who adopted the beagle puppy?")  # the words parsed: no statement before the pool
    provider = WaitingProvider()

    def note_statement(execute, sql, params, many, context):
        provider.statement_sent.set()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note_statement):
        hits = hybrid.hybrid_search(memories, "Who adopted the beagle puppy?", provider=provider)
    assert provider.saw_statement is True  # embedding first, it would have waited in vain
    assert hits[0].memory.content == "Alice adopted a beagle puppy called Biscuit."


def test_an_embedding_that_fails_fails_the_search(memories):
    class Failing:
        def embed(self, texts):
            raise EmbeddingError("the embedding service is down")

    with pytest.raises(EmbeddingError, match="is down"):
        hybrid.hybrid_search(memories, "beagle puppy", provider=Failing())


# Forking a process that has threads is this test's subject.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_embeds_in_a_thread_of_its_own():
    """A child has none of its parent's threads: handed to the parent's idle one, its work would never run."""
    assert hybrid.query_embedding_thread.submit(lambda: 1).result(timeout=10) == 1  # the parent's thread exists
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        try:
            code = 0 if hybrid.query_embedding_thread.submit(lambda: 42).result(timeout=10) == 42 else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
