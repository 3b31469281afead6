"""Every memory admin page renders for an operator."""

import pytest
from django.test import Client
from django.urls import reverse

from memory.models import Topic
from tests.memory.factories import make_memory, make_project, make_workspace
from tests.users import make_operator

pytestmark = pytest.mark.django_db

MODELS = ["workspace", "project", "memory", "topic", "entity", "relation", "entitymerge", "decision",
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
