"""The progress throttle (with a controllable clock) and the system checks."""

import pytest
from django.core import checks

from jobs.checks import check_backend, check_redis
from jobs.models import JobRun
from jobs.progress import ProgressReporter
from jobs.samples import returns_42
from jobs.signals import run_progress

pytestmark = pytest.mark.django_db(transaction=True)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_hundred_thousand_reports_become_a_few_writes_per_second_and_the_last_is_kept():
    run, _ = JobRun.claim(returns_42.enqueue().id, "w", "h", 1)
    clock = FakeClock()
    reporter = ProgressReporter(run, interval=0.25, clock=clock)
    sent = []
    receiver = lambda sender, done, **kw: sent.append(done)  # noqa: E731
    run_progress.connect(receiver)
    try:
        for done in range(1, 100_001):
            clock.now += 2.0 / 100_000  # 100k items over two simulated seconds
            reporter.report(done, 100_000, f"item {done}")
    finally:
        run_progress.disconnect(receiver)
    assert 7 <= reporter.writes <= 8 and reporter.writes == len(sent)  # one per 250 ms
    assert reporter.take_pending() == (100_000, 100_000, "item 100000")  # the runner writes it with the outcome
    stored = JobRun.objects.get(pk=run.pk)
    assert stored.progress_done == sent[-1] and stored.progress_total == 100_000


def test_negative_progress_is_rejected():
    run, _ = JobRun.claim(returns_42.enqueue().id, "w", "h", 1)
    with pytest.raises(ValueError):
        ProgressReporter(run).report(-1, 10)


def test_the_redis_check_reports_an_unreachable_server(services):
    assert check_redis() == []
    services.stop_redis()
    try:
        errors = check_redis()
    finally:
        services.start_redis()
    assert [e.id for e in errors] == ["jobs.E001"]


def test_the_backend_check_reports_unknown_queues(settings):
    from django.tasks import default_task_backend

    settings.JOBS_QUEUES = ["default"]
    ids = {e.id for e in check_backend(default_task_backend)}
    assert "jobs.E003" in ids
    assert all(isinstance(e, checks.Error) for e in check_backend(default_task_backend))
