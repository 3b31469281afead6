"""Decision analysis and anomaly detection: services directly, tasks through a real worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs import RunStatus
from jobs.definitions import catalog
from jobs.models import JobRun
from memory.models import Anomaly, Decision
from memory.insights.anomalies import detect_anomalies, robust_z
from memory.tasks import analyze_decision
from tests.memory.factories import make_memory, make_project, make_workspace

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_well_recorded_decision_scores_higher_than_a_bare_one(work):
    project = make_project(make_workspace())
    good = Decision.objects.create(
        workspace=project.workspace, project=project, title="Move billing to PostgreSQL",
        context="MySQL replication lag broke invoices twice this quarter.",
        options=["Stay on MySQL", "Move to PostgreSQL", "Use a managed service"], chosen="Move to PostgreSQL",
        rationale="Because logical replication fixes the lag; the trade-off is a two-week migration risk.",
    )
    bare = Decision.objects.create(workspace=project.workspace, project=project, title="Do it")
    ids = [analyze_decision.enqueue(good.pk).id, analyze_decision.enqueue(bare.pk).id]
    work()
    assert all(r.status == RunStatus.SUCCEEDED for r in JobRun.objects.filter(pk__in=ids))
    assert JobRun.objects.get(pk=ids[0]).rq_queue_name == "analytics.normal"
    good.refresh_from_db()
    bare.refresh_from_db()
    assert good.quality_score > bare.quality_score and bare.findings and good.analyzed_at


def test_the_robust_z_score_ignores_one_old_outlier_and_flags_a_spike():
    history = [4, 5, 6, 5, 4, 90, 5, 6, 5, 4]
    assert abs(robust_z(6, history)) < 3.5
    assert robust_z(40, history) > 3.5


def test_an_hourly_spike_becomes_an_anomaly():
    project = make_project(make_workspace())
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for hours_ago in range(2, 48):
        make_memory(project, f"routine note {hours_ago}", created_at=now - timedelta(hours=hours_ago, minutes=10))
    for i in range(30):
        make_memory(project, f"incident chatter {i}", created_at=now - timedelta(minutes=30))
    found = detect_anomalies(now=now)
    assert [(a.kind, a.metric, a.project_id) for a in found] == [("spike", "memories_per_hour", project.pk)]
    assert Anomaly.objects.get().details["count"] == 30
    # A quiet hour against a week that was mostly quiet is no anomaly.
    assert detect_anomalies(now=now + timedelta(hours=5)) == []


def test_every_memory_task_is_in_the_catalog():
    paths = {t.module_path for t in catalog()}
    for name in ("memory.enrichment.tasks.extract_topics", "memory.enrichment.tasks.update_embeddings",
                 "memory.insights.tasks.analyze_decision", "memory.insights.tasks.detect_anomalies",
                 "memory.graph.tasks.update_graph_batch", "memory.lifecycle.tasks.apply_memory_decay"):
        assert name in paths
