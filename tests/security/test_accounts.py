"""Members sign in on their own page and land where their workspaces allow; failed sign-ins are rate-limited."""

import pytest
from django.core import mail
from django.test import Client, override_settings

from tests.memory.factories import make_workspace
from tests.users import make_outsider, make_staff

pytestmark = pytest.mark.django_db


def test_a_member_signs_in_and_lands_on_the_memory_page():
    make_workspace("acme", member=make_outsider("member"))
    client = Client()
    response = client.post("/accounts/login/", {"username": "member", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == "/memory/" and response.status_code == 200
    assert b"Sign out (member)" in response.content


def test_an_operator_lands_on_the_dashboard():
    make_staff("operator", perms=["jobs.view_jobrun"])
    client = Client()
    response = client.post("/accounts/login/", {"username": "operator", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == "/dashboard/"


def test_signing_out_is_a_post_and_ends_the_session():
    client = Client()
    client.force_login(make_outsider("member"))
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/memory/").status_code == 302


def test_password_reset_sends_a_mail_with_a_link():
    make_outsider("member")
    response = Client().post("/accounts/password_reset/", {"email": "member@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and "/accounts/reset/" in mail.outbox[0].body


@override_settings(ENGRAM_LOGIN_RATE="3/300")
@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_failed_sign_ins_are_rate_limited_per_address_and_username(url):
    make_outsider("member")
    client = Client()
    for _ in range(3):
        assert client.post(url, {"username": "member", "password": "wrong"}).status_code == 200
    refused = client.post(url, {"username": "member", "password": "pw"})
    assert b"Too many failed sign-ins" in refused.content
    if url == "/accounts/login/":
        assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(ENGRAM_TOKEN_RATE="5/60")
def test_requests_with_api_tokens_are_rate_limited_per_address():
    client = Client()
    statuses = [client.get("/api/memory", HTTP_AUTHORIZATION="Bearer eng_guess").status_code for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
