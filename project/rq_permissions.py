"""django-rq's pages behind explicit permissions, not only staff status.

django-rq lets any staff user read every queue and job (arguments included) and empty, delete,
requeue or stop them, both under /admin/rq/ and under the admin's own /admin/django_rq/dashboard/.
Here reading needs `jobs.view_jobrun` and every action `jobs.operate_queues`, on both.
"""

import functools
import re

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from django_rq import stats_views, views
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from rq import Worker
from rq.exceptions import NoSuchJobError

VIEW_PERMISSION = "jobs.view_jobrun"
OPERATE_PERMISSION = "jobs.operate_queues"
# Views that change queues or jobs (on POST; their GET is the confirmation page of the change).
ACTIONS = frozenset({
    views.delete_failed_jobs, views.clear_queue, views.requeue_all, views.delete_job, views.requeue_job_view,
    views.enqueue_job, views.stop_job, views.confirm_action, views.actions,
})
# What django-rq raises (a 500) for an id or index it does not know: a queue index out of range, a job
# or worker Redis does not hold (worker_details asserts), the rq-scheduler page without rq-scheduler.
NOT_FOUND = {
    views.worker_details: (NoSuchJobError, IndexError, AssertionError, ValueError),
    views.scheduler_jobs: (IndexError, ImproperlyConfigured),
}


# django-rq's job lists end with an inline `$("tr input.action-select").actions()`: the CSP blocks it
# (no nonce) and Django's admin/js/actions.js, which those pages load, initialises itself anyway.
INLINE_ACTIONS_SCRIPT = re.compile(
    rb'<script type="text/javascript">\s*\(function\(\$\) \{\s*\$\(document\)\.ready\(function\(\$\) \{\s*'
    rb'\$\("tr input\.action-select"\)\.actions\(\);\s*\}\);\s*\}\)\(django\.jQuery\);\s*</script>')


def without_inline_actions_script(response):
    if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith("text/html"):
        return response
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    response.content = INLINE_ACTIONS_SCRIPT.sub(b"", response.content)
    return response


def require_permissions(view, admin_site=admin.site):
    """Staff login (the admin's), then the view or operate permission the view needs."""
    needed = OPERATE_PERMISSION if view in ACTIONS else VIEW_PERMISSION
    missing = NOT_FOUND.get(view, (NoSuchJobError, IndexError))

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if view is views.worker_details and not kwargs["key"].startswith(Worker.redis_worker_namespace_prefix):
            # Links that name a worker by its name (as our pages and logs do) rather than its Redis key.
            kwargs["key"] = Worker.redis_worker_namespace_prefix + kwargs["key"]
        user = request.user
        if not user.has_perm(VIEW_PERMISSION) or not user.has_perm(needed):
            raise PermissionDenied
        if request.method not in ("GET", "HEAD") and not user.has_perm(OPERATE_PERMISSION):
            raise PermissionDenied
        try:
            return without_inline_actions_script(view(request, *args, **kwargs))
        except missing:
            raise Http404("No such queue, job, worker or scheduler.") from None

    return admin_site.admin_view(checked)


def gated_rq_urls():
    """django-rq's URL patterns (app `django_rq`), every view wrapped by require_permissions."""
    patterns = get_admin_urlpatterns(view_wrapper=require_permissions)
    for pattern in get_api_urlpatterns():
        pattern.callback = require_permissions(pattern.callback)
        patterns.append(pattern)
    return patterns, "django_rq"


class GatedQueueAdmin(QueueAdmin):
    """django-rq's admin entry (/admin/django_rq/dashboard/) with the same permissions as /admin/rq/."""

    def has_module_permission(self, request):
        return request.user.has_perm(VIEW_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(VIEW_PERMISSION)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm(OPERATE_PERMISSION)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        from django.urls import path

        def wrap(view):
            return require_permissions(view, self.admin_site)

        patterns = get_admin_urlpatterns(name_prefix="django_rq_", view_wrapper=wrap)
        for pattern in get_api_urlpatterns(name_prefix="django_rq_"):
            pattern.callback = wrap(pattern.callback)
            patterns.append(pattern)
        # Only the changelist of ModelAdmin's own URLs: Dashboard has no table to change or delete.
        info = self.opts.app_label, self.opts.model_name
        return [*patterns, path("", wrap(stats_views.stats), name="%s_%s_changelist" % info)]


def install_admin(site=admin.site):
    """Replace django-rq's admin registration by the gated one."""
    if site.is_registered(Dashboard):
        site.unregister(Dashboard)
    site.register(Dashboard, GatedQueueAdmin)


