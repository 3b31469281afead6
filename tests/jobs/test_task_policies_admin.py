"""Operator pages in admin: the Tasks page's statistics and task policies with their audit log."""

import pytest
from django.urls import reverse

from jobs import RunStatus
from jobs.models import TaskPolicy, TaskPolicyChange
from tests.jobs.operations_cast import TASKS_URL, make_run, operator  # noqa: F401 - operator: fixture


pytestmark = pytest.mark.django_db(transaction=True)


# --- Tasks -------------------------------------------------------------------------------------


def test_the_tasks_page_computes_statistics_in_postgres(operator, django_assert_max_num_queries):
    for wait, took in ((1, 10), (2, 20), (3, 30)):
        make_run(enqueued_ago=1800, wait=wait, took=took)
    make_run(status=RunStatus.DEAD, enqueued_ago=1800)  # never started: no wait or run time
    make_run(status=RunStatus.QUEUED, enqueued_ago=7200)  # another hour of the chart
    make_run(enqueued_ago=2 * 86400, wait=100, took=100)  # outside 24 h, inside 7 d
    TaskPolicy.objects.create(task_path="jobs.samples.echo", max_attempts=4)

    with django_assert_max_num_queries(8):
        page = operator.get(TASKS_URL, {"window": "24h"})
    assert page.status_code == 200
    tasks = {t["path"]: t for t in page.context["tasks"]}
    assert "jobs.samples.noop" in tasks and tasks["jobs.samples.noop"]["stats"] is None
    echo = tasks["jobs.samples.echo"]
    assert echo["overrides"] == {"max_attempts": 4}
    stats = echo["stats"]
    assert (stats["runs"], stats["succeeded"], stats["dead"], stats["finished"]) == (5, 3, 1, 4)
    assert stats["success_rate"] == "75.0%" and stats["throughput"] == f"{4 / 24:.1f}"
    assert stats["wait_p50"] == pytest.approx(2.0) and stats["wait_p95"] == pytest.approx(2.9)
    assert stats["run_p50"] == pytest.approx(20.0) and stats["run_p95"] == pytest.approx(29.0)
    assert "20s / 29s" in page.content.decode()
    bars = stats["chart"]["bars"]
    assert len(bars) == 24 and sum(b["count"] for b in bars) == 5 and stats["chart"]["peak"] == 4
    assert "<svg" in page.content.decode()

    week = operator.get(TASKS_URL, {"window": "7d"})
    week_stats = next(t for t in week.context["tasks"] if t["path"] == "jobs.samples.echo")["stats"]
    assert week_stats["runs"] == 6 and len(week_stats["chart"]["bars"]) == 168
    assert operator.get(TASKS_URL, {"window": "1h"}).context["tasks"][0] is not None
    assert operator.get(TASKS_URL, {"window": "bogus"}).context["window"] == "24h"


# --- task policies and their audit ----------------------------------------------------------------


def policy_form(**values):
    data = {"task_path": "jobs.samples.echo", "max_attempts": "", "backoff": "", "backoff_base": "",
            "backoff_cap": "", "soft_time_limit": "", "hard_time_limit": "", "priority": ""}
    data.update({k: str(v) for k, v in values.items()})
    if data.get("paused") in ("False", ""):
        data.pop("paused")
    return data


def test_the_policy_admin_records_who_changed_what_from_what_to_what(operator):
    add = operator.post(reverse("admin:jobs_taskpolicy_add"), policy_form(max_attempts=5, priority=10))
    assert add.status_code == 302
    policy = TaskPolicy.objects.get(task_path="jobs.samples.echo")
    assert policy.updated_by == operator.user and policy.max_attempts == 5
    created = TaskPolicyChange.objects.get()
    assert created.changes == {"max_attempts": [None, 5], "priority": [None, 10]}
    assert created.changed_by == operator.user

    change_url = reverse("admin:jobs_taskpolicy_change", args=[policy.pk])
    form = policy_form(max_attempts=3, priority=10, paused="on", backoff="fixed")
    form.pop("task_path")  # read-only once the policy exists
    assert operator.post(change_url, form).status_code == 302
    latest = TaskPolicyChange.objects.order_by("-changed_at", "-pk").first()
    assert latest.changes == {"max_attempts": [5, 3], "backoff": ["", "fixed"], "paused": [False, True]}

    assert operator.post(change_url, form).status_code == 302  # nothing changed, nothing recorded
    assert TaskPolicyChange.objects.count() == 2

    page = operator.get(change_url)
    assert "max_attempts: 5 → 3" in page.content.decode()
    log = operator.get(reverse("admin:jobs_taskpolicychange_changelist"))
    assert log.status_code == 200 and "paused: False → True" in log.content.decode()
    assert operator.get(reverse("admin:jobs_taskpolicychange_add")).status_code == 403
    assert operator.post(reverse("admin:jobs_taskpolicychange_delete", args=[latest.pk])).status_code == 403

    operator.post(reverse("admin:jobs_taskpolicy_delete", args=[policy.pk]), {"post": "yes"})
    assert not TaskPolicy.objects.exists()
    removal = TaskPolicyChange.objects.order_by("-changed_at", "-pk").first()
    assert removal.changes == {"max_attempts": [3, None], "backoff": ["fixed", ""], "priority": [10, None],
                               "paused": [True, False]}


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"task_path": "jobs.samples.nope"}, "task_path", "Select a valid choice"),
        ({"soft_time_limit": 10, "hard_time_limit": 5}, "soft_time_limit", "must be shorter"),
        # The code's hard limit (1 s) still applies when only the soft one is overridden.
        ({"task_path": "jobs.samples.overruns_hard_limit", "soft_time_limit": 2}, "soft_time_limit",
         "must be shorter"),
        ({"priority": 101}, "priority", "less than or equal to 100"),
        ({"priority": -101}, "priority", "greater than or equal to -100"),
        ({"max_attempts": 0}, "max_attempts", "greater than or equal to 1"),
        ({"hard_time_limit": -1}, "hard_time_limit", "positive"),
        ({"backoff_cap": "soon"}, "backoff_cap", "Enter a number"),
    ],
)
def test_invalid_policy_input_is_a_form_error(operator, values, field, message):
    response = operator.post(reverse("admin:jobs_taskpolicy_add"), policy_form(**values))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and message in " ".join(errors[field])
    assert not TaskPolicy.objects.exists() and not TaskPolicyChange.objects.exists()
