"""Rows the job tests build again and again."""

from jobs.models import Schedule


def make_schedule(name="nightly", **fields):
    """A validated, saved schedule of jobs.samples.noop (every minute unless a cron is given)."""
    fields = {"task_path": "jobs.samples.noop", **fields}
    if "cron" not in fields:
        fields.setdefault("interval_seconds", 60)
    schedule = Schedule(name=name, **fields)
    schedule.full_clean()
    schedule.save()
    return schedule
