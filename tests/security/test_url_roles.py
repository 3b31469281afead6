"""Every URL the resolver knows, admin and django-rq included, tried as each kind of user.

Each route has an expected status per role (ROLES order). A route missing from EXPECTED fails the
test, so a new URL cannot ship without someone deciding who may reach it.
"""

import os
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from jobs.models import JobRun
from jobs.samples import returns_42
from tests.security.cast import ROLES, build_cast

pytestmark = pytest.mark.django_db

# Rows of status codes in ROLES order: anonymous, member_a, viewer_a, member_b, staff_no_perms,
# staff_perms_a (staff, editor of A, view/change memory and view runs), superuser. Read as: staff status
# alone opens the admin's index and nothing else; a member of B gets 404 for A's rows; django-rq's pages
# need jobs.view_jobrun and their actions jobs.operate_queues (403 for staff without them); an admin
# object view that redirects (302) sends to the change page or, for a row the user may not see, to the
# index. Jobs in Redis: the run is dispatched after commit, which a rolled-back test never reaches, so
# django-rq answers 404 (not 500) for its job pages here.
EXPECTED = {
    '': "302 302 302 302 302 302 302",
    'accounts/login/': "200 302 302 302 302 302 302",
    'accounts/login/': "200 302 302 302 302 302 302",
    'accounts/logout/': "405 405 405 405 405 405 405",
    'accounts/password_change/': "302 200 200 200 200 200 200",
    'accounts/password_change/done/': "302 200 200 200 200 200 200",
    'accounts/password_reset/': "200 200 200 200 200 200 200",
    'accounts/password_reset/done/': "200 200 200 200 200 200 200",
    'accounts/reset/<uidb64>/<token>/': "200 200 200 200 200 200 200",
    'accounts/reset/done/': "200 200 200 200 200 200 200",
    'dashboard/': "302 403 403 403 403 200 200",
    'dashboard/series.json': "302 403 403 403 403 200 200",
    'runs/<uuid:run_id>/': "302 403 403 403 403 200 200",
    'memory/': "302 200 200 200 200 200 200",
    # Notes: a viewer reads but may not write (403); staff with no workspace has no project to write to.
    'memory/new/': "302 200 403 200 403 200 200",
    'memory/<int:pk>/': "302 200 200 404 404 200 200",
    'memory/<int:pk>/delete/': "302 200 403 404 404 200 200",
    'memory/entities/<int:entity_id>/': "302 200 200 404 404 200 200",
    'api/memory': "401 200 200 200 200 200 200",
    'api/memory/<int:pk>': "401 200 200 404 404 200 200",
    'api/search': "401 400 400 400 400 400 400",
    'api/topics/tree': "401 200 200 200 200 200 200",
    'api/graph': "401 200 200 200 200 200 200",
    'api/sessions/<int:pk>/context': "401 200 200 404 404 200 200",
    'api/sessions/<int:pk>/messages': "405 405 405 405 405 405 405",
    'api/decisions': "405 405 405 405 405 405 405",
    'api/openapi.json': "200 200 200 200 200 200 200",
    'admin/rq/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/details/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/finished/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/failed/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/failed/clear/': "302 302 302 302 403 403 200",
    'admin/rq/queues/<int:queue_index>/scheduled/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/started/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/deferred/': "302 302 302 302 403 200 200",
    'admin/rq/queues/<int:queue_index>/empty/': "302 302 302 302 403 403 200",
    'admin/rq/queues/<int:queue_index>/requeue-all/': "302 302 302 302 403 403 200",
    'admin/rq/queues/<int:queue_index>/<str:job_id>/': "302 302 302 302 403 404 404",
    'admin/rq/queues/<int:queue_index>/<str:job_id>/results/<str:result_id>/': "302 302 302 302 403 404 404",
    'admin/rq/queues/<int:queue_index>/<str:job_id>/delete/': "302 302 302 302 403 403 404",
    'admin/rq/queues/<int:queue_index>/<str:job_id>/requeue/': "302 302 302 302 403 403 404",
    'admin/rq/queues/<int:queue_index>/<str:job_id>/enqueue/': "302 302 302 302 403 403 404",
    'admin/rq/queues/<int:queue_index>/<str:job_id>/stop/': "302 302 302 302 403 403 405",
    'admin/rq/queues/confirm-action/<int:queue_index>/': "302 302 302 302 403 403 302",
    'admin/rq/queues/actions/<int:queue_index>/': "302 302 302 302 403 403 302",
    'admin/rq/workers/<int:queue_index>/': "302 302 302 302 403 200 200",
    'admin/rq/workers/<int:queue_index>/<str:key>/': "302 302 302 302 403 404 404",
    'admin/rq/schedulers/<int:scheduler_index>/': "302 302 302 302 403 404 404",
    'admin/rq/cron-schedulers/<int:connection_index>/<str:scheduler_name>/': "302 302 302 302 403 404 404",
    'admin/rq/cron-schedulers/<int:connection_index>/<str:scheduler_name>/jobs/<path:cron_job_name>/': "302 302 302 302 403 404 404",
    'admin/rq/^stats.json/?$': "302 302 302 302 403 200 200",
    'admin/rq/^stats.json/(?P<token>[\\w]+)?/?$': "302 302 302 302 403 200 200",
    'admin/': "302 302 302 302 200 200 200",
    'admin/login/': "200 200 200 200 302 302 302",
    'admin/logout/': "302 302 302 302 405 405 405",
    'admin/password_change/': "302 302 302 302 200 200 200",
    'admin/password_change/done/': "302 302 302 302 200 200 200",
    'admin/autocomplete/': "302 302 302 302 403 403 403",
    'admin/jsi18n/': "302 302 302 302 200 200 200",
    'admin/r/<path:content_type_id>/<path:object_id>/': "302 302 302 302 404 404 404",
    'admin/auth/group/': "302 302 302 302 403 403 200",
    'admin/auth/group/add/': "302 302 302 302 403 403 200",
    'admin/auth/group/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/auth/group/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/auth/group/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/auth/group/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/auth/user/<id>/password/': "302 302 302 302 403 403 404",
    'admin/auth/user/': "302 302 302 302 403 403 200",
    'admin/auth/user/add/': "302 302 302 302 403 403 200",
    'admin/auth/user/<path:object_id>/history/': "302 302 302 302 403 403 200",
    'admin/auth/user/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/auth/user/<path:object_id>/change/': "302 302 302 302 403 403 200",
    'admin/auth/user/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/jobs/worker/queues/': "302 302 302 302 403 403 200",
    'admin/jobs/worker/': "302 302 302 302 403 403 200",
    'admin/jobs/worker/add/': "302 302 302 302 403 403 403",
    'admin/jobs/worker/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/jobs/worker/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/jobs/worker/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/jobs/worker/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/jobs/jobrun/<uuid:run_id>/retry-edit/': "302 302 302 302 403 403 200",
    'admin/jobs/jobrun/<uuid:run_id>/cancel/': "302 302 302 302 403 403 405",
    'admin/jobs/jobrun/<uuid:run_id>/retry/': "302 302 302 302 403 403 405",
    'admin/jobs/jobrun/purge/': "302 302 302 302 403 403 200",
    'admin/jobs/jobrun/retry-dead/': "302 302 302 302 403 403 200",
    'admin/jobs/worker/queues/<str:queue>/empty/': "302 302 302 302 403 403 404",
    'admin/jobs/schedule/preview/': "302 302 302 302 403 200 200",
    'admin/jobs/jobrun/': "302 302 302 302 403 200 200",
    'admin/jobs/jobrun/add/': "302 302 302 302 403 403 403",
    'admin/jobs/jobrun/<path:object_id>/history/': "302 302 302 302 403 200 200",
    'admin/jobs/jobrun/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/jobs/jobrun/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/jobs/jobrun/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/jobs/schedule/': "302 302 302 302 403 200 200",
    'admin/jobs/schedule/add/': "302 302 302 302 403 403 200",
    'admin/jobs/schedule/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/jobs/schedule/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/jobs/schedule/<path:object_id>/change/': "302 302 302 302 403 302 302",
    'admin/jobs/schedule/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/jobs/taskpolicy/tasks/': "302 302 302 302 403 403 200",
    'admin/jobs/taskpolicy/': "302 302 302 302 403 403 200",
    'admin/jobs/taskpolicy/add/': "302 302 302 302 403 403 200",
    'admin/jobs/taskpolicy/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/jobs/taskpolicy/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/jobs/taskpolicy/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/jobs/taskpolicy/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/jobs/taskpolicychange/': "302 302 302 302 403 403 200",
    'admin/jobs/taskpolicychange/add/': "302 302 302 302 403 403 403",
    'admin/jobs/taskpolicychange/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/jobs/taskpolicychange/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/jobs/taskpolicychange/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/jobs/taskpolicychange/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/workspace/': "302 302 302 302 403 200 200",
    'admin/memory/workspace/add/': "302 302 302 302 403 403 200",
    'admin/memory/workspace/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/workspace/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/workspace/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/workspace/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/project/': "302 302 302 302 403 200 200",
    'admin/memory/project/add/': "302 302 302 302 403 403 200",
    'admin/memory/project/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/project/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/project/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/project/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/memory/': "302 302 302 302 403 200 200",
    'admin/memory/memory/add/': "302 302 302 302 403 403 200",
    'admin/memory/memory/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/memory/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/memory/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/memory/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/topic/': "302 302 302 302 403 200 200",
    'admin/memory/topic/add/': "302 302 302 302 403 403 200",
    'admin/memory/topic/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/topic/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/topic/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/topic/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/entity/': "302 302 302 302 403 200 200",
    'admin/memory/entity/add/': "302 302 302 302 403 403 200",
    'admin/memory/entity/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/entity/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/entity/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/entity/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/relation/': "302 302 302 302 403 200 200",
    'admin/memory/relation/add/': "302 302 302 302 403 403 200",
    'admin/memory/relation/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/relation/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/relation/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/relation/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/entitymerge/': "302 302 302 302 403 403 200",
    'admin/memory/entitymerge/add/': "302 302 302 302 403 403 403",
    'admin/memory/entitymerge/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/entitymerge/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/entitymerge/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/entitymerge/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/decision/': "302 302 302 302 403 200 200",
    'admin/memory/decision/add/': "302 302 302 302 403 403 200",
    'admin/memory/decision/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/decision/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/decision/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/decision/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/reflection/': "302 302 302 302 403 403 200",
    'admin/memory/reflection/add/': "302 302 302 302 403 403 200",
    'admin/memory/reflection/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/reflection/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/reflection/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/reflection/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/anomaly/': "302 302 302 302 403 403 200",
    'admin/memory/anomaly/add/': "302 302 302 302 403 403 200",
    'admin/memory/anomaly/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/anomaly/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/anomaly/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/anomaly/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/session/': "302 302 302 302 403 200 200",
    'admin/memory/session/add/': "302 302 302 302 403 403 200",
    'admin/memory/session/<path:object_id>/history/': "302 302 302 302 302 200 200",
    'admin/memory/session/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/session/<path:object_id>/change/': "302 302 302 302 403 200 200",
    'admin/memory/session/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/apitoken/': "302 302 302 302 403 403 200",
    'admin/memory/apitoken/add/': "302 302 302 302 403 403 403",
    'admin/memory/apitoken/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/apitoken/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/apitoken/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/apitoken/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/django_rq/dashboard/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/details/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/finished/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/failed/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/failed/clear/': "302 302 302 302 403 403 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/scheduled/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/started/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/deferred/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/empty/': "302 302 302 302 403 403 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/requeue-all/': "302 302 302 302 403 403 200",
    'admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/': "302 302 302 302 403 404 404",
    'admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/results/<str:result_id>/': "302 302 302 302 403 404 404",
    'admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/delete/': "302 302 302 302 403 403 404",
    'admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/requeue/': "302 302 302 302 403 403 404",
    'admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/enqueue/': "302 302 302 302 403 403 404",
    'admin/django_rq/dashboard/queues/<int:queue_index>/<str:job_id>/stop/': "302 302 302 302 403 403 405",
    'admin/django_rq/dashboard/queues/confirm-action/<int:queue_index>/': "302 302 302 302 403 403 302",
    'admin/django_rq/dashboard/queues/actions/<int:queue_index>/': "302 302 302 302 403 403 302",
    'admin/django_rq/dashboard/workers/<int:queue_index>/': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/workers/<int:queue_index>/<str:key>/': "302 302 302 302 403 404 404",
    'admin/django_rq/dashboard/schedulers/<int:scheduler_index>/': "302 302 302 302 403 404 404",
    'admin/django_rq/dashboard/cron-schedulers/<int:connection_index>/<str:scheduler_name>/': "302 302 302 302 403 404 404",
    'admin/django_rq/dashboard/cron-schedulers/<int:connection_index>/<str:scheduler_name>/jobs/<path:cron_job_name>/': "302 302 302 302 403 404 404",
    'admin/django_rq/dashboard/^stats.json/?$': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/^stats.json/(?P<token>[\\w]+)?/?$': "302 302 302 302 403 200 200",
    'admin/django_rq/dashboard/': "302 302 302 302 403 200 200",
    'admin/^(?P<app_label>auth|jobs|memory|django_rq)/$': "302 302 302 302 404 200 200",
    'admin/(?P<url>.*)$': "302 302 302 302 404 404 404",
    # Observability (probes, metrics, run API), chats, documents and their admin (added at merge;
    # detail routes get the memory's pk, so they answer 404 to everyone: no row of A leaks).
    'healthz': "200 200 200 200 200 200 200",
    'readyz': "503 503 503 503 503 503 503",
    'metrics': "401 401 401 401 401 200 200",
    'api/runs/': "401 403 403 403 403 200 200",
    'api/runs/openapi.json': "200 200 200 200 200 200 200",
    'api/runs/<uuid:run_id>': "401 403 403 403 403 200 200",
    'api/runs/<uuid:run_id>/cancel': "405 405 405 405 405 405 405",
    'api/runs/<uuid:run_id>/retry': "405 405 405 405 405 405 405",
    'webhooks/telegram/<str:path_secret>': "405 405 405 405 405 405 405",
    # Posts (memory/posts/): the page, the intake API and the admin.
    'posts/': "302 200 200 200 200 200 200",
    'api/posts': "405 405 405 405 405 405 405",
    'admin/memory/post/': "302 302 302 302 403 403 200",
    'admin/memory/post/add/': "302 302 302 302 403 403 200",
    'admin/memory/post/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/post/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/post/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/post/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/postenrichment/': "302 302 302 302 403 403 200",
    'admin/memory/postenrichment/add/': "302 302 302 302 403 403 403",
    'admin/memory/postenrichment/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/postenrichment/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/postenrichment/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/postenrichment/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/postcleanupcheckpoint/': "302 302 302 302 403 403 200",
    'admin/memory/postcleanupcheckpoint/add/': "302 302 302 302 403 403 403",
    'admin/memory/postcleanupcheckpoint/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/postcleanupcheckpoint/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/postcleanupcheckpoint/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/postcleanupcheckpoint/<path:object_id>/': "302 302 302 302 302 302 302",
    'chats/': "302 200 200 200 200 200 200",
    'chats/<int:chat_id>/': "404 404 404 404 404 404 404",
    'chats/imports/': "302 200 200 200 200 200 200",
    'chats/imports/<int:job_id>/': "404 404 404 404 404 404 404",
    'chats/analysis/': "302 200 200 200 200 200 200",
    'chats/analysis/<int:run_id>/': "404 404 404 404 404 404 404",
    'chats/proposals/<int:proposal_id>/review/': "404 404 404 404 404 404 404",
    'chats/experiments/': "302 200 200 200 200 200 200",
    'chats/experiments/<int:experiment_id>/': "404 404 404 404 404 404 404",
    'documents/': "302 200 200 200 200 200 200",
    'documents/upload/': "302 405 405 405 405 405 405",
    'documents/states/': "302 200 200 200 200 200 200",
    'documents/search/': "302 200 200 200 200 200 200",
    'documents/validation/': "302 200 200 200 200 200 200",
    'documents/validation/batch/': "302 405 405 405 405 405 405",
    'documents/validation/<int:pk>/': "302 405 405 405 405 405 405",
    'documents/<int:pk>/': "302 404 404 404 404 404 404",
    'documents/<int:pk>/original/': "302 404 404 404 404 404 404",
    'documents/<int:pk>/cancel/': "302 405 405 405 405 405 405",
    'documents/<int:pk>/pages/<int:number>.png': "404 404 404 404 404 404 404",
    'admin/rq/^metrics/?$': "302 302 302 302 403 200 200",
    'admin/memory/document/': "302 302 302 302 403 403 200",
    'admin/memory/document/add/': "302 302 302 302 403 403 200",
    'admin/memory/document/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/document/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/document/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/document/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/documentpage/': "302 302 302 302 403 403 200",
    'admin/memory/documentpage/add/': "302 302 302 302 403 403 403",
    'admin/memory/documentpage/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/documentpage/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/documentpage/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/documentpage/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/chunk/': "302 302 302 302 403 403 200",
    'admin/memory/chunk/add/': "302 302 302 302 403 403 200",
    'admin/memory/chunk/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/chunk/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/chunk/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/chunk/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/validationtask/': "302 302 302 302 403 403 200",
    'admin/memory/validationtask/add/': "302 302 302 302 403 403 200",
    'admin/memory/validationtask/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/validationtask/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/validationtask/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/validationtask/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/validationevent/': "302 302 302 302 403 403 200",
    'admin/memory/validationevent/add/': "302 302 302 302 403 403 403",
    'admin/memory/validationevent/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/validationevent/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/validationevent/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/validationevent/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/documentclassifier/': "302 302 302 302 403 403 200",
    'admin/memory/documentclassifier/add/': "302 302 302 302 403 403 403",
    'admin/memory/documentclassifier/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/documentclassifier/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/documentclassifier/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/documentclassifier/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/searchquerylog/': "302 302 302 302 403 403 200",
    'admin/memory/searchquerylog/add/': "302 302 302 302 403 403 403",
    'admin/memory/searchquerylog/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/searchquerylog/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/searchquerylog/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/searchquerylog/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/healthcheck/': "302 302 302 302 403 403 200",
    'admin/memory/healthcheck/add/': "302 302 302 302 403 403 403",
    'admin/memory/healthcheck/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/healthcheck/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/healthcheck/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/healthcheck/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/backup/': "302 302 302 302 403 403 200",
    'admin/memory/backup/add/': "302 302 302 302 403 403 403",
    'admin/memory/backup/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/backup/<path:object_id>/delete/': "302 302 302 302 403 403 403",
    'admin/memory/backup/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/backup/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/telegrambot/': "302 302 302 302 403 403 200",
    'admin/memory/telegrambot/add/': "302 302 302 302 403 403 200",
    'admin/memory/telegrambot/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/telegrambot/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/telegrambot/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/telegrambot/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/chat/': "302 302 302 302 403 403 200",
    'admin/memory/chat/add/': "302 302 302 302 403 403 200",
    'admin/memory/chat/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/chat/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/chat/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/chat/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/author/': "302 302 302 302 403 403 200",
    'admin/memory/author/add/': "302 302 302 302 403 403 200",
    'admin/memory/author/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/author/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/author/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/author/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/message/': "302 302 302 302 403 403 200",
    'admin/memory/message/add/': "302 302 302 302 403 403 200",
    'admin/memory/message/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/message/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/message/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/message/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/chattopic/': "302 302 302 302 403 403 200",
    'admin/memory/chattopic/add/': "302 302 302 302 403 403 200",
    'admin/memory/chattopic/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/chattopic/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/chattopic/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/chattopic/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/atom/': "302 302 302 302 403 403 200",
    'admin/memory/atom/add/': "302 302 302 302 403 403 200",
    'admin/memory/atom/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/atom/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/atom/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/atom/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/messageingestionjob/': "302 302 302 302 403 403 200",
    'admin/memory/messageingestionjob/add/': "302 302 302 302 403 403 200",
    'admin/memory/messageingestionjob/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/messageingestionjob/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/messageingestionjob/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/messageingestionjob/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/analysisrun/': "302 302 302 302 403 403 200",
    'admin/memory/analysisrun/add/': "302 302 302 302 403 403 200",
    'admin/memory/analysisrun/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/analysisrun/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/analysisrun/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/analysisrun/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/proposal/': "302 302 302 302 403 403 200",
    'admin/memory/proposal/add/': "302 302 302 302 403 403 200",
    'admin/memory/proposal/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/proposal/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/proposal/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/proposal/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/classificationexperiment/': "302 302 302 302 403 403 200",
    'admin/memory/classificationexperiment/add/': "302 302 302 302 403 403 200",
    'admin/memory/classificationexperiment/<path:object_id>/history/': "302 302 302 302 302 302 302",
    'admin/memory/classificationexperiment/<path:object_id>/delete/': "302 302 302 302 403 403 302",
    'admin/memory/classificationexperiment/<path:object_id>/change/': "302 302 302 302 403 403 302",
    'admin/memory/classificationexperiment/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/embeddingproviderconfig/': "302 302 302 302 403 403 200",
    'admin/memory/embeddingproviderconfig/add/': "302 302 302 302 403 403 200",
    'admin/memory/embeddingproviderconfig/<path:object_id>/history/': "302 302 302 302 403 403 200",
    'admin/memory/embeddingproviderconfig/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/embeddingproviderconfig/<path:object_id>/change/': "302 302 302 302 403 403 200",
    'admin/memory/embeddingproviderconfig/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/memory/agentconfig/': "302 302 302 302 403 403 200",
    'admin/memory/agentconfig/add/': "302 302 302 302 403 403 200",
    'admin/memory/agentconfig/<path:object_id>/history/': "302 302 302 302 403 403 200",
    'admin/memory/agentconfig/<path:object_id>/delete/': "302 302 302 302 403 403 200",
    'admin/memory/agentconfig/<path:object_id>/change/': "302 302 302 302 403 403 200",
    'admin/memory/agentconfig/<path:object_id>/': "302 302 302 302 302 302 302",
    'admin/django_rq/dashboard/^metrics/?$': "302 302 302 302 403 200 200",
}


def walk(patterns, prefix=""):
    """(route, pattern) of every endpoint under `patterns`."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def concrete(route, values):
    """A request path for `route`, parameters filled from `values` (by name)."""
    def fill(match):
        return str(values.get(match.group("name"), "x"))

    path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)\??", fill, route)
    path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", fill, path)
    path = path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")
    return "/" + path


def admin_model(route):
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    return (match.group(1), match.group(2)) if match else None


@pytest.fixture
def cast():
    return build_cast()


def test_every_url_answers_each_role_as_the_table_says(cast):
    users, rows = cast
    run = JobRun.objects.get(pk=returns_42.enqueue().id)
    queue_index = list(settings.RQ_QUEUES).index(run.rq_queue_name)
    values = {
        "pk": rows["memory"].pk, "entity_id": rows["entity"].pk, "run_id": run.id, "queue_index": queue_index,
        "job_id": run.rq_job_id,
        "result_id": "x",
        "key": "x", "scheduler_index": 0, "connection_index": 0, "scheduler_name": "x", "cron_job_name": "x",
        "uidb64": "x", "token": "x", "app_label": "memory", "content_type_id": 1,
    }
    object_ids = {("memory", name): rows[name].pk for name in
                  ("workspace", "project", "memory", "topic", "entity", "relation", "decision", "session")}
    object_ids[("jobs", "jobrun")] = run.id
    object_ids[("auth", "user")] = users["member_a"].pk
    routes = list(walk(get_resolver().url_patterns))
    missing, wrong, tried, observed = [], [], 0, []
    clients = {"anonymous": Client(raise_request_exception=False)}
    for role in ROLES[1:]:
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(users[role])
    for route, pattern in routes:
        expected = EXPECTED.get(route)
        if expected is None:
            missing.append(route)
            if not os.environ.get("ENGRAM_DUMP_URL_TABLE"):
                continue
        local = dict(values)
        if "sessions/<int:pk>" in route:
            local["pk"] = rows["session"].pk
        model = admin_model(route)
        if model is not None:
            local["object_id"] = object_ids.get(model, 1)
        path = concrete(route, local)
        statuses = []
        for role in ROLES:
            statuses.append(str(clients[role].get(path).status_code))
            tried += 1
        observed.append(f"    {route!r}: \"{' '.join(statuses)}\",")
        if " ".join(statuses) != expected:
            wrong.append(f"{route} ({path}): got {' '.join(statuses)}, expected {expected}")
    print(f"\nURL-by-role: {len(routes)} routes x {len(ROLES)} roles = {tried} requests")
    if os.environ.get("ENGRAM_DUMP_URL_TABLE"):
        with open(os.environ["ENGRAM_DUMP_URL_TABLE"], "w") as out:
            out.write("\n".join(observed))
    assert not missing, "routes missing from the table: " + ", ".join(missing)
    assert not wrong, "\n".join(wrong)


def test_no_surface_shows_workspace_a_to_member_b_or_to_staff_without_membership(cast):
    users, rows = cast
    secret = "launch is on Friday"
    for role in ("member_b", "staff_no_perms"):
        client = Client()
        client.force_login(users[role])
        for path in ("/api/memory", "/api/search?q=launch", "/api/topics/tree", "/api/graph", "/memory/",
                     "/memory/?q=launch", f"/memory/?project={rows['project'].pk}",
                     "/admin/memory/memory/", "/admin/memory/memory/?q=launch"):
            body = client.get(path).content.decode()
            assert "acme" not in body.lower() and secret not in body, (role, path)
    member = Client()
    member.force_login(users["member_a"])
    assert secret in member.get("/memory/").content.decode()
