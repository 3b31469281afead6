"""robots.txt as RFC 9309 reads it: groups by product token, `*` and `$`, the longest rule wins."""

import time

from memory.posts.robots import RobotsRules, glob_match

ROBOTS = """
# comments and blank lines are ignored
Disallow: /before-any-group

User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Disallow: /*?session=
Allow: /private/open

User-agent: OtherBot
User-agent: EngramBot
Disallow: /drafts/
Allow: /drafts/public
Disallow: /search

user-agent: engrambot
disallow: /archive/*/raw
"""


def rules(agent="EngramBot"):
    return RobotsRules.parse(ROBOTS, agent)


def test_a_crawler_named_by_a_group_follows_that_group_and_ignores_the_star_group():
    mine = rules()
    assert not mine.allows("/drafts/x") and not mine.allows("/search?q=1")
    assert mine.allows("/private/x")  # a `*` rule: not ours
    assert not rules("otherbot").allows("/drafts/x")  # every agent line of a group counts


def test_groups_naming_the_same_crawler_are_combined_case_insensitively():
    assert not rules().allows("/archive/2024/raw")
    assert rules().allows("/archive/2024/clean")


def test_a_crawler_named_nowhere_follows_the_star_groups():
    other = rules("SomeBot")
    assert not other.allows("/private/x") and other.allows("/drafts/x")
    assert other.allows("/before-any-group")  # a rule before any user-agent line belongs to none


def test_the_longest_matching_rule_wins_and_allow_wins_a_tie():
    other = rules("SomeBot")
    assert other.allows("/private/open/page")
    assert other.allows("/private/opener")  # /private/open is a prefix rule: it matches here too
    assert RobotsRules([(False, "/page"), (True, "/page")]).allows("/page")
    assert not RobotsRules([(True, "/p"), (False, "/page")]).allows("/page")


def test_wildcards_and_the_end_anchor():
    other = rules("SomeBot")
    assert not other.allows("/files/report.pdf")
    assert other.allows("/files/report.pdf.html")  # `$`: the path must end there
    assert not other.allows("/cart?session=42&x=1")
    assert other.allows("/cart?id=42")


def test_an_empty_disallow_and_an_empty_file_allow_everything():
    assert RobotsRules.parse("User-agent: *\nDisallow:\n", "EngramBot").allows("/anything")
    assert RobotsRules.parse("", "EngramBot").allows("/anything")
    assert not RobotsRules.parse("User-agent: *\nDisallow: /\n", "EngramBot").allows("/anything")


def test_robots_txt_itself_is_always_allowed():
    assert RobotsRules.parse("User-agent: *\nDisallow: /\n", "EngramBot").allows("/robots.txt")


def test_percent_encoding_is_compared_decoded():
    strict = RobotsRules.parse("User-agent: *\nDisallow: /caf%C3%A9\n", "EngramBot")
    assert not strict.allows("/caf%c3%a9/menu")


def test_a_hostile_pattern_cannot_make_matching_explode():
    glob = "/" + "*a" * 30 + "*b"
    started = time.monotonic()
    assert not glob_match(glob, "/" + "a" * 5000)
    assert time.monotonic() - started < 2.0
