"""Mark the words of a text that a search query matched, after escaping the text.

A word matches when PostgreSQL's english parser gives it a lexeme the query's terms hold, so
"backups" is marked for the query "backup" exactly as full-text search matched it. Every piece of
the text is escaped before any <mark> is added: the only markup in the result is ours.
"""

import re

from django.db import connections
from django.utils.html import escape
from django.utils.safestring import mark_safe

from memory.search.terms import TEXT_CONFIG, query_terms

WORD = re.compile(r"\w+")
SNIPPET_CHARS = 600  # a result shows the start of a long memory, not all of it


def query_lexemes(query, using="default"):
    """The lexemes of the query's words (dates name day lexemes no word of a text has)."""
    return {lexeme for term in query_terms(query, using) for lexeme in term.lexemes}


def word_lexemes(words, using="default"):
    """{word: set of its lexemes} for each distinct word, parsed by PostgreSQL in one statement."""
    words = sorted(set(words))
    if not words:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT w, tsvector_to_array(to_tsvector(%s::regconfig, w)) FROM unnest(%s::text[]) AS w",
                       [TEXT_CONFIG, words])
        return {word: set(lexemes) for word, lexemes in cursor.fetchall()}


def snippet(text, limit=SNIPPET_CHARS):
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def highlight_all(texts, query, using="default"):
    """Each text as safe HTML with the words the query matched in <mark>; one query for the lexemes."""
    wanted = query_lexemes(query, using)
    words = {word.lower() for text in texts for word in WORD.findall(text)} if wanted else set()
    lexemes = word_lexemes(words, using)
    matched = {word for word, found in lexemes.items() if found & wanted}
    return [mark_words(text, matched) for text in texts]


def mark_words(text, matched):
    """Escape `text` and wrap each word whose lowercase form is in `matched` in <mark>."""
    pieces, end = [], 0
    for found in WORD.finditer(text):
        pieces.append(escape(text[end:found.start()]))
        word = escape(found.group())
        pieces.append(f"<mark>{word}</mark>" if found.group().lower() in matched else word)
        end = found.end()
    pieces.append(escape(text[end:]))
    return mark_safe("".join(pieces))
