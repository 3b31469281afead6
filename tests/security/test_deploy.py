"""Production settings from the environment, secrets from files, a generated key, logs without secrets."""

import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client

from project.log_redaction import RedactSecrets
from tests.memory.factories import make_workspace  # noqa: F401  (the app registry is loaded by pytest-django)
from tests.users import make_outsider


def run_manage(args, env, cwd=settings.BASE_DIR):
    return subprocess.run([sys.executable, "manage.py", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)


@pytest.fixture
def production_env(subprocess_env, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("x" * 30 + "a-long-random-production-secret-0123456789")
    env = {**subprocess_env, "DJANGO_ENV": "production", "ENGRAM_SECRET_KEY_FILE": str(secret_file),
           "ENGRAM_ALLOWED_HOSTS": "engram.example.com", "ENGRAM_VAR_DIR": str(tmp_path / "var")}
    # Not part of a deployment: the browser tests set it for Playwright in this process's environment.
    for name in ("ENGRAM_SECRET_KEY", "ENGRAM_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    return env


@pytest.mark.django_db
def test_check_deploy_is_silent_in_production(production_env):
    proc = run_manage(["check", "--deploy", "--fail-level", "WARNING"], production_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


@pytest.mark.django_db
def test_in_development_check_deploy_still_names_what_production_changes(subprocess_env):
    env = {key: value for key, value in subprocess_env.items() if key != "DJANGO_ENV"}
    proc = run_manage(["check", "--deploy"], env)
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in proc.stdout + proc.stderr


def test_production_without_a_secret_key_refuses_to_start(production_env):
    production_env.pop("ENGRAM_SECRET_KEY_FILE")
    proc = run_manage(["check"], production_env)
    assert proc.returncode != 0 and "ENGRAM_SECRET_KEY" in proc.stderr


def test_the_development_key_is_generated_once_and_kept_under_var(subprocess_env, tmp_path):
    env = {**subprocess_env, "ENGRAM_VAR_DIR": str(tmp_path)}
    env.pop("ENGRAM_SECRET_KEY", None)
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_manage(["shell", "--no-imports", "-c", code], env).stdout.strip()
    second = run_manage(["shell", "--no-imports", "-c", code], env).stdout.strip()
    assert len(first) >= 50 and first == second == (tmp_path / "secret_key").read_text().strip()
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_secrets_come_from_file_variables(subprocess_env, tmp_path):
    (tmp_path / "key").write_text("sk-from-a-file\n")
    env = {**subprocess_env, "MEMORY_LLM_API_KEY_FILE": str(tmp_path / "key")}
    code = "from django.conf import settings; print(settings.MEMORY_LLM_API_KEY)"
    proc = run_manage(["shell", "--no-imports", "-c", code], env)
    assert proc.stdout.strip() == "sk-from-a-file"


@pytest.mark.parametrize("message, args, secret", [
    ("calling with Authorization: Bearer %s", ("eng_abcdefghijklmnopqrstuvwxyz012345",), "eng_abcdefghijklmnopqrstuvwxyz012345"),
    ("login failed for %s password=%s", ("bob", "hunter2-secret"), "hunter2-secret"),
    ("webhook %s", ('{"webhook_secret": "whsec_0123456789"}',), "whsec_0123456789"),
    ("connecting to %s", ("redis://default:s3cr3tpass@cache:6379/0",), "s3cr3tpass"),
    ("config MEMORY_LLM_API_KEY=%s", ("sk-live-0123456789abcdef",), "sk-live-0123456789abcdef"),
])
def test_logs_never_contain_tokens_passwords_or_webhook_secrets(message, args, secret, capsys):
    logger = logging.getLogger("jobs.redaction-test")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, message, args, None)
    assert RedactSecrets().filter(record)
    assert secret not in record.getMessage() and "[redacted]" in record.getMessage()


def test_the_configured_handlers_redact(caplog):
    handler = logging.getHandlerByName("console")
    assert any(isinstance(f, RedactSecrets) for f in handler.filters)


@pytest.mark.django_db
def test_a_request_with_a_token_logs_no_token(caplog):
    from memory.models import ApiToken

    user = make_outsider("tokened")
    workspace = make_workspace("acme", member=user)
    secret = ApiToken.issue(user, "ci", workspace=workspace)
    handler = logging.getHandlerByName("console")
    with caplog.at_level(logging.DEBUG):
        caplog.handler.addFilter(handler.filters[0])
        Client(raise_request_exception=False).get("/api/memory/999999", HTTP_AUTHORIZATION=f"Bearer {secret}")
        logging.getLogger("memory").warning("token %s refused", secret)
    assert secret not in caplog.text


def test_every_response_carries_a_content_security_policy_without_inline_script(client):
    header = client.get("/accounts/login/")["Content-Security-Policy"]
    script = next(part for part in header.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'self'" in script
    assert "frame-ancestors 'none'" in header


def test_the_production_defaults_are_the_checklist(production_env):
    code = ("from django.conf import settings as s; print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)")
    proc = run_manage(["shell", "--no-imports", "-c", code], production_env)
    assert proc.stdout.split() == ["False", "True", "True", "True", "31536000", "('HTTP_X_FORWARDED_PROTO',",
                                   "'https')"], proc.stderr
    assert os.environ.get("DJANGO_ENV", "development") != "production"  # the suite itself runs in development
