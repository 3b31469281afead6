"""Settings read from the environment (project/env.py): any text gives a value or an error naming the variable."""

import math

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from project.env import database_from_url, env_bool, env_float, env_int, env_list, env_str

NAME = "ENGRAM_TEST_VARIABLE"
# Environment values cannot hold NUL or lone surrogates; everything else may arrive from a shell or a unit file.
env_text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)


def read(monkeypatch, reader, raw, *args, **kwargs):
    monkeypatch.setenv(NAME, raw)
    try:
        return reader(NAME, *args, **kwargs)
    except ImproperlyConfigured as exc:
        assert NAME in str(exc)  # the operator learns which variable is wrong
        return exc


@given(raw=env_text | st.from_regex(r"-?[0-9]{1,6}", fullmatch=True))
def test_an_integer_setting_is_an_integer_at_least_its_minimum_or_an_error(raw):
    with pytest.MonkeyPatch.context() as monkeypatch:
        value = read(monkeypatch, env_int, raw, 7, minimum=0)
    if raw == "":
        assert value == 7
    elif not isinstance(value, ImproperlyConfigured):
        assert isinstance(value, int) and value >= 0 and value == int(raw)


@given(raw=env_text | st.sampled_from(["nan", "NaN", "inf", "-inf", "1e309", "0.5", "-0.5", " 2 "]))
def test_a_number_setting_is_finite_and_at_least_its_minimum_or_an_error(raw):
    with pytest.MonkeyPatch.context() as monkeypatch:
        value = read(monkeypatch, env_float, raw, 1.5, minimum=0.1)
    if raw == "":
        assert value == 1.5
    elif not isinstance(value, ImproperlyConfigured):
        assert math.isfinite(value) and value >= 0.1


def test_nan_and_infinity_are_refused(monkeypatch):
    for raw in ("nan", "inf", "-Infinity", "1e999"):
        assert isinstance(read(monkeypatch, env_float, raw, 1.0, minimum=0.0), ImproperlyConfigured)


@given(raw=env_text | st.sampled_from(["1", "0", "TRUE", " yes ", "Off", "on"]))
def test_a_boolean_setting_is_a_boolean_or_an_error(raw):
    with pytest.MonkeyPatch.context() as monkeypatch:
        value = read(monkeypatch, env_bool, raw, False)
    word = raw.strip().lower()
    if raw == "":
        assert value is False
    elif word in {"1", "true", "yes", "on"}:
        assert value is True
    elif word in {"0", "false", "no", "off"}:
        assert value is False
    else:
        assert isinstance(value, ImproperlyConfigured)


@given(raw=env_text)
def test_a_list_setting_has_no_blank_items(raw):
    with pytest.MonkeyPatch.context() as monkeypatch:
        value = read(monkeypatch, env_list, raw)
    assert all(item and item == item.strip() for item in value)


def test_a_secret_comes_from_the_file_named_by_name_file(monkeypatch, tmp_path):
    (tmp_path / "secret").write_text("s3cret\n")
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "secret"))
    assert env_str(NAME) == "s3cret"
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=f"{NAME}_FILE"):
        env_str(NAME)


urls = st.builds(
    lambda scheme, user, host, port, path, query: f"{scheme}://{user}{host}{port}/{path}{query}",
    st.sampled_from(["postgresql", "postgres", "pgsql", "mysql", "", "http"]),
    st.sampled_from(["", "u@", "u:p%40ss@", ":@", "%zz@"]),
    st.sampled_from(["localhost", "[::1]", "[::1", "db.internal", "", "%2Fvar%2Frun"]),
    st.sampled_from(["", ":5432", ":0", ":99999", ":-1", ":port"]),
    env_text,
    st.sampled_from(["", "?sslmode=require", "?host=/tmp&host=/run", "?=&=", "?%"]),
)


@given(url=urls | env_text)
def test_a_database_url_gives_a_postgres_entry_or_an_error_naming_the_variable(url):
    try:
        entry = database_from_url(url, "DATABASE_URL")
    except ImproperlyConfigured as exc:
        assert "DATABASE_URL" in str(exc)
        return
    assert entry["ENGINE"] == "django.db.backends.postgresql" and entry["NAME"]
    assert entry["PORT"] == "" or 0 < int(entry["PORT"]) < 65536


def test_a_database_url_with_a_bad_port_or_host_is_refused_by_name():
    for url in ("postgresql://db:99999/engram", "postgresql://[::1/engram", "postgresql://db:port/engram"):
        with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
            database_from_url(url)
    entry = database_from_url("postgresql://u:p%40ss@[::1]:5433/engram?sslmode=require")
    assert (entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"], entry["NAME"]) == (
        "u", "p@ss", "::1", "5433", "engram")
    assert entry["OPTIONS"] == {"sslmode": "require"}
