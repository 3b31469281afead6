"""django-rq's template library, with the real task in place of jobs.runner.execute.

Every RQ job of Engram calls jobs.runner.execute(run_id); the task it runs is the job's
description (jobs.dispatch sets it to the run's task path). settings.TEMPLATES installs this
module as the `django_rq` library, so django-rq's own pages show the task wherever they show
a job's callable.
"""

from django import template
from django_rq.templatetags import django_rq as rq_tags

from jobs.dispatch import ENTRYPOINT

register = template.Library()
register.tags.update(rq_tags.register.tags)
register.filters.update(rq_tags.register.filters)


@register.filter
def show_func_name(job):
    """An Engram run's task path and run id; any other job's callable as django-rq shows it."""
    name = rq_tags.show_func_name(job)
    if name == ENTRYPOINT and job.description and job.args:
        return f"{job.description} (run {job.args[0]})"
    return name
