"""The demo data goes through the real jobs: topics, embeddings, a graph and a reflection."""

import pytest
from django.core.management import call_command

from jobs import RunStatus
from jobs.models import JobRun
from memory.models import Entity, Memory, Reflection, Relation

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_is_enriched_by_the_jobs(work):
    call_command("engram_demo")
    work()  # enrichment, analysis, graph batch, reflections (and the reflection it chains)
    work()
    assert not JobRun.objects.exclude(status=RunStatus.SUCCEEDED).exists()
    assert Memory.objects.filter(embedding__isnull=False).count() == Memory.objects.count() >= 24
    assert Memory.objects.filter(topics__isnull=False).distinct().count() >= 20
    assert Entity.objects.filter(name__in=["Acme Corp", "Globex Inc"]).count() == 2 and Relation.objects.exists()
    assert Reflection.objects.count() == 1
    before = Memory.objects.count()
    call_command("engram_demo")  # a second run adds nothing
    assert Memory.objects.count() == before == 24
