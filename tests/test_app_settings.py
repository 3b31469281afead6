"""Each app's settings: one object with the defaults, read lazily, every setting documented."""

import re
from pathlib import Path

from django import conf as django_conf

from jobs.conf import JobsSettings, jobs_settings
from memory.conf import MemorySettings, memory_settings

ROOT = Path(__file__).resolve().parent.parent
# Settings the project sets on purpose to something other than the app's default.
PROJECT_WIRING = {"JOBS_API_AUTHENTICATORS", "MEMORY_DOCUMENTS_BACKUP_DIR"}  # the backup dir: under var/


def test_every_app_setting_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### Environment variables"):]
    documented = set(re.findall(r"`((?:JOBS|MEMORY)_[A-Z_]+)`", table))
    names = set(JobsSettings.defaults()) | set(MemorySettings.defaults())
    assert names - documented == set()


def test_no_module_reads_an_app_setting_with_a_default_of_its_own():
    offenders = []
    for package in ("memory", "jobs"):
        for path in (ROOT / package).rglob("*.py"):
            if re.search(r"getattr\(\s*settings,\s*[\"'](?:MEMORY|JOBS)_", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_jobs_reads_its_settings_only_through_the_settings_object():
    offenders = []
    for path in (ROOT / "jobs").rglob("*.py"):
        name = str(path.relative_to(ROOT))
        if name == "jobs/conf.py":
            continue
        offenders += [f"{name}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                      if re.search(r"\bsettings\.JOBS_", line)]
    assert offenders == []


def test_the_settings_object_reads_each_setting_once_until_a_setting_changes(monkeypatch):
    from django.core.signals import setting_changed
    from django.test import override_settings

    reads = []
    real_read = JobsSettings._read
    monkeypatch.setattr(JobsSettings, "_read", lambda self, name: reads.append(name) or real_read(self, name))
    with override_settings(JOBS_RETENTION_DAYS=3):
        assert [jobs_settings.RETENTION_DAYS for _ in range(3)] == [3, 3, 3]
        assert reads == ["RETENTION_DAYS"]
        with override_settings(JOBS_RETENTION_DAYS=5):
            assert jobs_settings.RETENTION_DAYS == 5
        assert jobs_settings.RETENTION_DAYS == 3
        # A change made without an override is seen once setting_changed says so.
        django_conf.settings.JOBS_RETENTION_DAYS = 4  # inside the override's own holder
        assert jobs_settings.RETENTION_DAYS == 3
        setting_changed.send(sender=None, setting="JOBS_RETENTION_DAYS", value=4, enter=True)
        assert jobs_settings.RETENTION_DAYS == 4
        # Another app's setting leaves the cache alone.
        reads.clear()
        setting_changed.send(sender=None, setting="MEMORY_RETENTION_DAYS", value=1, enter=True)
        assert jobs_settings.RETENTION_DAYS == 4
        assert reads == []


def test_the_settings_object_reads_the_current_settings(settings):
    settings.MEMORY_RETENTION_DAYS = 12
    settings.JOBS_RETENTION_DAYS = 3
    assert (memory_settings.RETENTION_DAYS, jobs_settings.RETENTION_DAYS) == (12, 3)


def test_a_missing_or_blank_setting_takes_the_default_and_values_get_the_declared_type(settings):
    del settings.MEMORY_SESSION_IDLE_DAYS
    settings.MEMORY_LLM_URL = ""
    settings.MEMORY_EMBEDDINGS_BATCH_SIZE = "8"
    assert memory_settings.SESSION_IDLE_DAYS == 30
    assert memory_settings.LLM_URL == "https://api.openai.com"
    assert memory_settings.EMBEDDINGS_BATCH_SIZE == 8


def test_the_project_settings_default_to_the_app_defaults(monkeypatch):
    import importlib

    import project.settings

    for name in [*JobsSettings.defaults(), *MemorySettings.defaults()]:
        monkeypatch.delenv(name, raising=False)
    fresh = importlib.reload(project.settings)
    try:
        for name, default in {**JobsSettings.defaults(), **MemorySettings.defaults()}.items():
            # Wiring, not a second default: the project plugs memory's token auth into the run API.
            if name in PROJECT_WIRING:
                assert getattr(fresh, name) != list(default), f"{name} is no longer wired by the project"
                continue
            if hasattr(fresh, name):
                value = getattr(fresh, name)
                assert (list(value) if isinstance(default, tuple) else value) == (
                    list(default) if isinstance(default, tuple) else default), name
    finally:
        importlib.reload(project.settings)
