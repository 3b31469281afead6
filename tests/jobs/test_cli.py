"""manage.py jobs: every subcommand, and one-line errors for bad input."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from jobs import RunStatus
from jobs.models import JobRun
from jobs.samples import returns_42

pytestmark = pytest.mark.django_db(transaction=True)


def jobs(*args):
    out = StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()


def test_catalog_prints_every_task_with_its_policy():
    out = jobs("catalog")
    assert "jobs.samples.always_fails" in out and "3 attempts" in out


def test_queues_prints_high_lanes_first():
    names = jobs("queues").split()
    assert names[0] == "default.high" and names[-1] == "maintenance.low" and len(names) == 33


def test_enqueue_list_show_and_run(work):
    run_id = jobs("enqueue", "jobs.samples.echo", "--args", '[1, "a"]', "--kwargs", '{"k": 2}',
                  "--priority", "60").strip()
    run = JobRun.objects.get(pk=run_id)
    assert run.lane == "high" and run.args == [1, "a"]
    work()
    shown = json.loads(jobs("show", run_id))
    assert shown["status"] == "succeeded" and shown["result"] == {"args": [1, "a"], "kwargs": {"k": 2}}
    assert run_id in jobs("list", "--status", "succeeded")
    assert run_id not in jobs("list", "--status", "dead")


def test_enqueue_with_a_delay_schedules_the_run():
    run_id = jobs("enqueue", "jobs.samples.noop", "--delay", "120").strip()
    assert JobRun.objects.get(pk=run_id).status == RunStatus.SCHEDULED


@pytest.mark.parametrize(
    "args, message",
    [
        (["enqueue", "jobs.samples.nope"], "unknown task"),
        (["enqueue", "jobs.samples.echo", "--args", "[1,"], "--args is not valid JSON"),
        (["enqueue", "jobs.samples.echo", "--kwargs", "[]"], "must be a JSON object"),
        (["enqueue", "jobs.samples.noop", "--queue", "nowhere"], "nowhere"),
        (["show", "not-a-uuid"], "no run with id"),
        (["cancel", "00000000-0000-0000-0000-000000000000"], "no run with id"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        jobs(*args)


def test_retry_and_cancel(work):
    run_id = returns_42.enqueue().id
    with pytest.raises(CommandError, match="only finished runs"):
        jobs("retry", run_id)
    assert "cancelled" in jobs("cancel", run_id)
    new_id = jobs("retry", run_id).strip()
    assert JobRun.objects.get(pk=new_id).retry_of_id is not None
    with pytest.raises(CommandError, match="nothing to cancel"):
        jobs("cancel", run_id)


def test_dispatch_and_reconcile_report_counts():
    assert jobs("dispatch").startswith("dispatched 0")
    assert json.loads(jobs("reconcile"))["recovered"] == 0


def test_from_the_shell_a_bad_id_is_one_line_and_a_non_zero_exit(subprocess_env):
    proc = subprocess.run([sys.executable, "manage.py", "jobs", "show", "nope"], capture_output=True,
                          text=True, env=subprocess_env, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["CommandError: no run with id 'nope'"]


def test_seed_schedules_creates_the_defaults_once():
    from jobs.models import Schedule

    assert "created: jobs: purge old runs" in jobs("seed_schedules")
    schedule = Schedule.objects.get(name="jobs: purge old runs")
    assert schedule.next_fire_at is not None and schedule.enabled
    assert jobs("seed_schedules").strip() == "default schedules exist"
