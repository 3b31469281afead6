"""Schedules the job platform ships with, created by `manage.py jobs seed_schedules`."""

DEFAULT_SCHEDULES = [
    {
        "name": "jobs: purge old runs",
        "task_path": "jobs.tasks.purge_old_runs",
        "cron": "30 3 * * *",
        "timezone": "UTC",
        "description": "Retention: delete finished runs older than JOBS_RETENTION_DAYS (0 turns it off).",
    },
]


def seed_schedules(specs=DEFAULT_SCHEDULES):
    """Create the default schedules that do not exist yet (by name); return the names created.

    Existing ones are left as the operator edited them; disable a schedule rather than delete it,
    or the next seed brings it back.
    """
    from .models import Schedule

    created = []
    for spec in specs:
        schedule = Schedule(**spec)
        if Schedule.objects.filter(name=spec["name"]).exists():
            continue
        schedule.full_clean()
        schedule.save()
        created.append(schedule.name)
    return created
