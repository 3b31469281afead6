"""Schedules in admin: pages, form errors (never a 500), the fire-time preview, every action."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jobs import Trigger
from jobs.models import JobRun, MisfirePolicy, OverlapPolicy, Schedule
from tests.jobs.factories import make_schedule
from tests.users import make_operator, make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_schedule_changelist")
ADD = reverse("admin:jobs_schedule_add")


@pytest.fixture
def operator():
    return make_operator()


@pytest.fixture
def client(operator):
    client = Client()
    client.force_login(operator)
    return client


def change_url(schedule):
    return reverse("admin:jobs_schedule_change", args=[schedule.pk])


def form_data(**overrides):
    data = {
        "name": "purge", "task_path": "jobs.tasks.purge_old_runs", "args": "[]", "kwargs": '{"days": 30}',
        "enabled": "on", "description": "", "interval_seconds": "3600", "cron": "", "timezone": "UTC",
        "misfire_policy": MisfirePolicy.RUN_ONCE, "catch_up_limit": "3", "overlap_policy": OverlapPolicy.SKIP,
        "queue": "", "priority": "",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def act(client, action, *schedules):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [s.pk for s in schedules]}, follow=True)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def test_the_changelist_renders_with_filters_and_search(client):
    make_schedule("every minute")
    make_schedule("at dawn", interval_seconds=None, cron="0 5 * * *", timezone="Europe/Berlin")
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert b"every minute" in response.content and b"cron 0 5 * * * (Europe/Berlin)" in response.content
    for query in ["?enabled__exact=1", "?timing=cron", "?timing=interval", "?task=jobs.samples.noop",
                  "?misfire_policy=skip", "?overlap_policy=allow", "?q=dawn"]:
        assert client.get(CHANGELIST + query).status_code == 200, query
    assert b"every minute" not in client.get(CHANGELIST + "?timing=cron").content


def test_the_add_form_offers_the_catalog_as_task_choices(client):
    response = client.get(ADD)
    assert response.status_code == 200
    assert b'<option value="jobs.samples.echo">' in response.content
    assert b"Set an interval or a cron expression to see them." in response.content


@pytest.mark.parametrize("overrides, field", [
    ({"interval_seconds": "", "cron": "99 * * * *"}, "cron"),
    ({"interval_seconds": "", "cron": "0 4 * * *", "timezone": "Mars/Olympus"}, "timezone"),
    ({"args": "[1,"}, "args"),
    ({"kwargs": "{'days': 30}"}, "kwargs"),
    ({"args": "[1, 2, 3]"}, "args"),
    ({"kwargs": '{"weeks": 2}'}, "kwargs"),
    ({"task_path": "jobs.samples.not_a_task"}, "task_path"),
    ({"queue": "nowhere"}, "queue"),
    ({"priority": "500"}, "priority"),
])
def test_a_bad_add_is_a_form_error_not_a_500(client, overrides, field):
    response = client.post(ADD, form_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Schedule.objects.exists()


def test_setting_both_or_neither_timing_is_a_form_error(client):
    for overrides in ({"cron": "0 4 * * *"}, {"interval_seconds": ""}):
        response = client.post(ADD, form_data(**overrides))
        assert response.status_code == 200
        assert "interval or a cron expression" in str(response.context["adminform"].form.non_field_errors())


def test_a_valid_add_saves_the_schedule_with_its_next_fire_time(client):
    before = timezone.now()
    response = client.post(ADD, form_data(args="", kwargs=""))  # empty JSON fields mean no arguments
    assert response.status_code == 302
    schedule = Schedule.objects.get(name="purge")
    assert schedule.args == [] and schedule.kwargs == {}
    assert before + timedelta(hours=1) <= schedule.next_fire_at <= timezone.now() + timedelta(hours=1)


def test_an_edit_in_the_form_moves_the_next_fire_time(client):
    schedule = make_schedule(interval_seconds=86400)
    data = form_data(name=schedule.name, task_path="jobs.samples.noop", kwargs="{}", interval_seconds="5")
    assert client.post(change_url(schedule), data).status_code == 302
    schedule.refresh_from_db()
    assert schedule.next_fire_at <= timezone.now() + timedelta(seconds=5)


def test_the_change_form_shows_the_next_five_fire_times_in_the_schedules_zone(client):
    schedule = make_schedule(interval_seconds=None, cron="30 2 * * *", timezone="Europe/Berlin")
    content = client.get(change_url(schedule)).content.decode()
    preview = content[content.index('class="engram-next-fire-times"'):]
    preview = preview[:preview.index("</ol>")]
    assert preview.count("<li>") == 5 and preview.count("02:30:00 CE") == 5  # CET or CEST


def test_the_preview_follows_the_submitted_values_of_a_form_with_errors(client):
    schedule = make_schedule(interval_seconds=None, cron="30 2 * * *", timezone="Asia/Tokyo")
    data = form_data(name=schedule.name, task_path="jobs.samples.noop", kwargs="{}", interval_seconds="",
                     cron="15 4 * * *", timezone="Asia/Tokyo", priority="500")
    response = client.post(change_url(schedule), data)
    assert response.status_code == 200 and "priority" in response.context["adminform"].form.errors
    assert response.content.decode().count("04:15:00 JST") == 5


def test_the_preview_of_an_invalid_cron_says_so(client):
    schedule = make_schedule(interval_seconds=None, cron="30 2 * * *")
    data = form_data(name=schedule.name, task_path="jobs.samples.noop", kwargs="{}", interval_seconds="",
                     cron="not cron at all")
    response = client.post(change_url(schedule), data)
    assert response.status_code == 200 and "Cannot compute them" in response.content.decode()


def test_run_now_enqueues_a_run_linked_to_each_schedule(client, operator):
    first, second = make_schedule("a"), make_schedule("b", enabled=False)
    response = act(client, "run_now", first, second)
    assert "Enqueued 2 run(s)." in messages_of(response)
    for schedule in (first, second):
        run = JobRun.objects.get(schedule=schedule)
        assert run.trigger == Trigger.USER and run.enqueued_by == operator
        schedule.refresh_from_db()
        assert schedule.last_run_id == run.pk and schedule.last_fired_at is None
    assert b"/admin/jobs/jobrun/" in client.get(CHANGELIST).content  # the last-run link


def test_run_now_reports_a_schedule_whose_task_is_gone(client):
    broken = make_schedule("broken")
    Schedule.objects.filter(pk=broken.pk).update(task_path="jobs.samples.gone")
    response = act(client, "run_now", broken)
    assert any("Could not enqueue 1: broken" in m for m in messages_of(response))
    assert not JobRun.objects.exists()


def test_enable_touches_only_disabled_schedules(client):
    on, off = make_schedule("on"), make_schedule("off", enabled=False)
    on_next = on.next_fire_at
    response = act(client, "enable_schedules", on, off)
    assert "Enabled 1 schedule(s); 1 already enabled." in messages_of(response)
    on.refresh_from_db()
    off.refresh_from_db()
    assert off.enabled and off.next_fire_at is not None
    assert on.next_fire_at == on_next  # untouched: its phase is kept


def test_disable_touches_only_enabled_schedules(client):
    on, off = make_schedule("on"), make_schedule("off", enabled=False)
    response = act(client, "disable_schedules", on, off)
    assert "Disabled 1 schedule(s); 1 already disabled." in messages_of(response)
    on.refresh_from_db()
    assert not on.enabled and on.next_fire_at is None


def test_duplicate_makes_disabled_copies_under_free_names(client):
    original = make_schedule("nightly", kwargs={}, description="keep")
    act(client, "duplicate_schedules", original)
    response = act(client, "duplicate_schedules", original)
    assert "Duplicated 1 schedule(s), disabled: nightly (copy 2)." in messages_of(response)
    copy = Schedule.objects.get(name="nightly (copy)")
    assert not copy.enabled and copy.next_fire_at is None and copy.last_run_id is None
    assert (copy.task_path, copy.interval_seconds, copy.description) == ("jobs.samples.noop", 60, "keep")


def test_staff_without_the_model_permission_get_403():
    client = Client()
    client.force_login(make_staff())
    schedule = make_schedule()
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(ADD).status_code == 403
    assert client.get(change_url(schedule)).status_code == 403


def test_a_viewer_sees_schedules_but_cannot_act():
    client = Client()
    client.force_login(make_staff(perms=["jobs.view_schedule"]))
    schedule = make_schedule()
    response = client.get(CHANGELIST)
    assert response.status_code == 200 and b"run_now" not in response.content
    assert client.get(change_url(schedule)).status_code == 200
    act(client, "run_now", schedule)
    assert not JobRun.objects.exists()
