"""Template filters of the job pages: `{{ attempt.duration|duration }}`, `{{ backup.size|size }}`.

The one duration and size format of every job page (admin columns call the same functions).
"""

from django import template

from jobs.admin.formatting import human_bytes, human_seconds

register = template.Library()


@register.filter
def duration(value):
    """A duration in seconds or a timedelta, as the admin columns show it (None: "-")."""
    return human_seconds(value)


@register.filter
def size(value):
    """A size in bytes: 512 B, 2.0 KiB, 3.4 MiB (None: "-")."""
    return human_bytes(value)
