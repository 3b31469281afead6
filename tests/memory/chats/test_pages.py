"""The chat pages without a browser: who sees what, the upload limit, starting jobs from forms."""

import pytest
from django.test import Client

from jobs.models import JobRun
from memory.chats.models import AnalysisRun, MessageIngestionJob, Proposal
from tests.memory.factories import make_workspace
from tests.users import make_outsider, make_staff

from .factories import make_chat, make_messages

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_members_see_their_chats_and_outsiders_get_404():
    member = make_outsider("member")
    chat = make_chat(make_workspace("acme", member=member))
    make_messages(chat, ["The backup failed again"])
    assert "The backup failed again" in client_for(member).get(f"/chats/{chat.pk}/").content.decode()
    assert client_for(make_outsider()).get(f"/chats/{chat.pk}/").status_code == 404
    assert Client().get("/chats/").status_code == 302  # to the login page


def test_the_noise_filter_hides_noise():
    member = make_outsider("member")
    chat = make_chat(make_workspace("acme", member=member))
    loud, quiet = make_messages(chat, ["A real question about the migration plan?", "lol"])
    loud.record_score(0.8, {})
    quiet.record_score(0.1, {})
    page = client_for(member).get(f"/chats/{chat.pk}/?noise=no_noise").content.decode()
    assert "migration plan" in page and "lol" not in page


def test_an_upload_over_the_limit_is_refused_before_anything_is_queued(settings, tmp_path):
    settings.MEMORY_CHATS_UPLOAD_MAX_BYTES = 100
    settings.MEMORY_CHATS_UPLOAD_DIR = str(tmp_path)
    member = make_outsider("member")
    workspace = make_workspace("acme", member=member)
    upload = tmp_path / "big.json"
    upload.write_text("{" + " " * 200 + "}")
    with open(upload, "rb") as handle:
        response = client_for(member).post("/chats/imports/", {"workspace": workspace.pk, "export": handle})
    assert response.status_code == 200 and "the limit is 100" in response.content.decode()
    assert not MessageIngestionJob.objects.exists() and not JobRun.objects.exists()


def test_an_upload_creates_the_job_and_its_run(settings, tmp_path):
    settings.MEMORY_CHATS_UPLOAD_DIR = str(tmp_path / "uploads")
    member = make_outsider("member")
    workspace = make_workspace("acme", member=member)
    upload = tmp_path / "result.json"
    upload.write_text('{"name": "x", "type": "private_group", "id": 1, "messages": []}')
    with open(upload, "rb") as handle:
        response = client_for(member).post("/chats/imports/", {"workspace": workspace.pk, "export": handle})
    job = MessageIngestionJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/chats/imports/{job.pk}/"
    assert JobRun.objects.get(pk=job.run_id).args == [job.pk]
    assert job.source_file.startswith(str(tmp_path / "uploads")) and job.original_name == "result.json"


def test_a_member_cannot_start_a_run_in_someone_elses_workspace():
    member = make_outsider("member")
    make_workspace("mine", member=member)
    other = make_workspace("theirs")
    response = client_for(member).post("/chats/analysis/", {
        "workspace": other.pk, "window_start": "2026-01-01 00:00", "window_end": "2026-02-01 00:00",
        "min_length": 0, "batch_size": 50})
    assert response.status_code == 200 and not AnalysisRun.objects.exists()


def test_a_proposal_is_reviewed_once_from_the_page():
    staff = make_staff()  # a member of the run's workspace: staff status alone sees nothing (issue 11)
    run = AnalysisRun.objects.create(workspace=make_workspace(member=staff), window_start="2026-01-01T00:00Z",
                                     window_end="2026-02-01T00:00Z")
    proposal = Proposal.objects.create(run=run, kind="task", text="Renew the certificate", confidence=0.9)
    client = client_for(staff)
    assert client.post(f"/chats/proposals/{proposal.pk}/review/", {"decision": "accept"}).status_code == 302
    client.post(f"/chats/proposals/{proposal.pk}/review/", {"decision": "reject"})
    proposal.refresh_from_db()
    assert proposal.review == "accepted" and proposal.reviewed_by == staff
