"""django-rq's pages behind explicit permissions, not only staff status.

django-rq lets any staff user read every queue and job (arguments included) and empty, delete,
requeue or stop them. Here reading needs `jobs.view_jobrun` and every action `jobs.operate_queues`.
"""

import functools

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django_rq import cron_views, stats_views, views
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

VIEW_PERMISSION = "jobs.view_jobrun"
OPERATE_PERMISSION = "jobs.operate_queues"
# Views that change queues or jobs (on POST; their GET is the confirmation page of the change).
ACTIONS = frozenset({
    views.delete_failed_jobs, views.clear_queue, views.requeue_all, views.delete_job, views.requeue_job_view,
    views.enqueue_job, views.stop_job, views.confirm_action, views.actions,
})
READ_ONLY = frozenset({stats_views.stats, stats_views.stats_json, cron_views.cron_scheduler_detail,
                       cron_views.cron_job_detail})


def require_permissions(view):
    """Staff login (the admin's), then the view or operate permission the view needs."""
    needed = OPERATE_PERMISSION if view in ACTIONS else VIEW_PERMISSION

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        user = request.user
        if not user.has_perm(VIEW_PERMISSION) or not user.has_perm(needed):
            raise PermissionDenied
        if request.method not in ("GET", "HEAD") and not user.has_perm(OPERATE_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return admin.site.admin_view(checked)


def gated_rq_urls():
    """django-rq's URL patterns (app `django_rq`), every view wrapped by require_permissions."""
    patterns = get_admin_urlpatterns(view_wrapper=require_permissions)
    for pattern in get_api_urlpatterns():
        pattern.callback = require_permissions(pattern.callback)
        patterns.append(pattern)
    return patterns, "django_rq"
