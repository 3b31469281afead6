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


def default_schedules():
    """The platform's defaults plus DEFAULT_SCHEDULES of every app's `default_schedules` module."""
    from importlib import import_module

    from django.apps import apps

    specs = list(DEFAULT_SCHEDULES)
    for config in apps.get_app_configs():
        name = f"{config.name}.default_schedules"
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the module exists but something it imports does not
                raise
            continue
        specs.extend(module.DEFAULT_SCHEDULES)
    return specs


def seed_schedules(specs=None):
    """Create the default schedules that do not exist yet (by name); return the names created.

    Existing ones are left as the operator edited them; disable a schedule rather than delete it,
    or the next seed brings it back.
    """
    from .models import Schedule

    created = []
    for spec in default_schedules() if specs is None else specs:
        schedule = Schedule(**spec)
        if Schedule.objects.filter(name=spec["name"]).exists():
            continue
        schedule.full_clean()
        schedule.save()
        created.append(schedule.name)
    return created
