"""django-rq's pages with the real task in place of jobs.runner.execute.

Every RQ job of Engram calls jobs.runner.execute(run_id); the task it runs is the job's
description (jobs.dispatch sets it to the run's task path). install() swaps django-rq's
`show_func_name` filter, which every page of it uses to name a job's callable. (A template
library of our own under the name `django_rq` would do the same but trips templates.W003.)
"""

from django_rq.templatetags import django_rq as rq_tags

from jobs.dispatch import ENTRYPOINT

original_show_func_name = rq_tags.show_func_name


def show_func_name(job):
    """An Engram run's task path and run id; any other job's callable as django-rq shows it."""
    name = original_show_func_name(job)
    if name == ENTRYPOINT and job.description and job.args:
        return f"{job.description} (run {job.args[0]})"
    return name


def install():
    rq_tags.register.filters["show_func_name"] = show_func_name
