"""Every memory admin page renders for an operator."""

import pytest
from django.test import Client
from django.urls import reverse

from memory.models import Topic
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator

pytestmark = pytest.mark.django_db

MODELS = ["workspace", "project", "memory", "topic", "entity", "relation", "entitymerge", "decision", "apitoken",
          "reflection", "anomaly", "session"]


def test_every_changelist_and_a_change_page_render():
    client = Client()
    client.force_login(make_operator())
    project = make_project(make_workspace())
    memory = make_memory(project, "Searchable words here")
    Topic.objects.create(workspace=project.workspace, project=project, name="t")
    for model in MODELS:
        assert client.get(reverse(f"admin:memory_{model}_changelist")).status_code == 200, model
    assert client.get(reverse("admin:memory_memory_changelist") + "?q=searchable").status_code == 200
    assert client.get(reverse("admin:memory_memory_change", args=[memory.pk])).status_code == 200
    assert client.get(reverse("admin:memory_project_change", args=[project.pk])).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_actions_enqueue_their_jobs_as_the_operator_and_link_to_the_runs(work):
    from jobs.models import JobRun
    from memory.models import Decision, Reflection

    client = Client()
    client.force_login(make_operator())
    project = make_project(make_workspace())
    memory = make_memory(project, "Alice Chen works at Acme Corp in Berlin.", layer="episodic")
    decision = Decision.objects.create(workspace=project.workspace, project=project, title="Pick a database")
    changelist = reverse("admin:memory_memory_changelist")
    for action in ("re_embed", "re_extract_topics", "extract_graph_now"):
        page = client.post(changelist, {"action": action, "_selected_action": [memory.pk]}, follow=True)
        assert "Enqueued" in page.content.decode() and "/admin/jobs/jobrun/" in page.content.decode()
    for action in ("resolve_entities_now", "generate_reflection_now", "detect_communities_now"):
        client.post(reverse("admin:memory_project_changelist"), {"action": action, "_selected_action": [project.pk]})
    client.post(reverse("admin:memory_decision_changelist"), {"action": "analyze_now", "_selected_action": [decision.pk]})
    work()
    runs = JobRun.objects.all()
    assert runs.count() == 7 and all(r.status == "succeeded" and r.enqueued_by.username == "operator" for r in runs)
    memory.refresh_from_db()
    decision.refresh_from_db()
    assert memory.embedding is not None and memory.topics.exists() and memory.graph_extracted_at is not None
    assert decision.quality_score is not None and Reflection.objects.filter(project=project).exists()
