"""Template filters of the job pages: `{{ attempt.duration|duration }}`."""

from django import template

from jobs.admin.formatting import human_seconds

register = template.Library()


@register.filter
def duration(value):
    """A duration in seconds or a timedelta, as the admin columns show it (None: "-")."""
    return human_seconds(value)
