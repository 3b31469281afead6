"""One duration format for the job pages: admin columns and the `duration` template filter."""

from datetime import timedelta

from django.template import Context, Template

from jobs.admin.formatting import human_seconds


def test_seconds_and_timedeltas_format_alike():
    for seconds, text in [(0.42, "0.42s"), (7.5, "7.5s"), (185, "3m 05s"), (7800, "2h 10m"), (356400, "4d 3h")]:
        assert human_seconds(seconds) == text
        assert human_seconds(timedelta(seconds=seconds)) == text
    assert human_seconds(None) == "-"


def test_the_template_filter_uses_the_same_format():
    template = Template("{% load jobs_format %}{{ a|duration }} {{ b|duration }}")
    assert template.render(Context({"a": timedelta(minutes=3, seconds=5), "b": None})) == "3m 05s -"
