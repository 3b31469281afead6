"""Matched words are marked after the text is escaped: markup in a memory never reaches the page."""

import pytest

from memory.pages.highlight import highlight_all, mark_words


def test_marking_escapes_every_piece_first():
    html = mark_words('<script>alert("backup")</script> & backup', {"backup"})
    assert html == ('&lt;script&gt;alert(&quot;<mark>backup</mark>&quot;)&lt;/script&gt; &amp; '
                    '<mark>backup</mark>')


@pytest.mark.django_db
def test_words_are_matched_by_their_lexemes_as_full_text_search_matches_them():
    texts = ["Backups of the disks ran", "the <b>disk</b> is full", "nothing here"]
    assert highlight_all(texts, "backup disk") == [
        "<mark>Backups</mark> of the <mark>disks</mark> ran",
        "the &lt;b&gt;<mark>disk</mark>&lt;/b&gt; is full",
        "nothing here",
    ]
    assert highlight_all(["the and of"], "the") == ["the and of"]  # a stop word matches nothing
