"""A query's terms and how rare each is: what full-text ranking weighs (BM25's inverse document frequency).

A term is one whitespace-separated word of the query as PostgreSQL parses it (its lexemes AND-ed,
so "INC-4412" stays one term), or a date the query names ("8 May 2023", "May 2023", "2023-05-08"),
which matches the day lexemes memory.search_vector carries (memory.core.memories.DayLexemes).

Rarity comes from the lexeme frequencies ANALYZE keeps for the search_vector column
(pg_stats.most_common_elems, the 10,000 most common lexemes and the fraction of rows holding each):
no table of our own to keep in step with every write, and the figures autovacuum refreshes as the
corpus grows. A lexeme not among them is rarer than the rarest listed one.
"""

import math
import re
import threading
import time
from dataclasses import dataclass

from django.db import connections

TEXT_CONFIG = "english"  # the config memory.search_vector is generated with
STATISTICS_TTL_SECONDS = 300.0  # ANALYZE's figures change slowly; one read per process and period
PARSED_WORDS_LIMIT = 50_000  # words whose lexemes a process remembers (ParsedWords)
MONTHS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"((?:19|20)\d\d)"
DATE_PATTERNS = [  # (pattern, which groups are (year, month, day)); the most specific first
    (re.compile(rf"\b{_YEAR}-(\d\d)-(\d\d)\b"), lambda g: (g[0], g[1], g[2])),
    (re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.I), lambda g: (g[2], g[1], g[0])),
    (re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I), lambda g: (g[2], g[0], g[1])),
    (re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.I), lambda g: (g[1], g[0], None)),
]


@dataclass(frozen=True)
class Term:
    """One term of a query: its tsquery text (quoted lexemes, AND-ed) and its lexemes."""

    text: str
    lexemes: tuple
    weight: float = 1.0  # inverse document frequency, once known
    fraction: float | None = None  # of the memories holding it, from ANALYZE's figures; None: unknown
    rows: float | None = None  # how many memories hold it (fraction times the table's rows)


def month_number(value):
    return int(value) if value.isdigit() else MONTHS[value.lower().rstrip(".")]


def date_terms(query):
    """(the query without the dates it names, [Term for each date])."""
    terms = []
    for pattern, parts in DATE_PATTERNS:
        def replace(match, parts=parts):
            year, month, day = parts(match.groups())
            month = month_number(month)
            if not 1 <= month <= 12 or (day is not None and not 1 <= int(day) <= 31):
                return match.group(0)
            lexeme = f"m{int(year) * 100 + month}" if day is None else f"d{int(year) * 10000 + month * 100 + int(day)}"
            terms.append(Term(f"'{lexeme}'", (lexeme,)))
            return " "
        query = pattern.sub(replace, query)
    return query, terms


class ParsedWords:
    """Each word's lexemes as PostgreSQL's TEXT_CONFIG parses it, remembered per process.

    Parsing is a round trip to the database (under load on 2 cores, a round trip waits for the
    server process to be scheduled: a few ms); a word parses the same every time, and people
    search with the same few thousand words again and again, so only words not seen before are
    sent, all in one query. The cache is emptied when it holds PARSED_WORDS_LIMIT words.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._lexemes = {}  # word -> tuple of lexemes (empty for a stop word)

    def clear(self):
        with self._lock:
            self._lexemes.clear()

    def get(self, words, using):
        """{word: lexemes} for every word given."""
        with self._lock:
            found = {word: self._lexemes[word] for word in words if word in self._lexemes}
        missing = list(dict.fromkeys(word for word in words if word not in found))
        if missing:
            with connections[using].cursor() as cursor:
                cursor.execute(
                    "SELECT w.word, tsvector_to_array(to_tsvector(%s::regconfig, w.word))"
                    " FROM unnest(%s::text[]) AS w(word)",
                    [TEXT_CONFIG, missing])
                parsed = {word: tuple(lexemes) for word, lexemes in cursor.fetchall()}
            found.update(parsed)
            with self._lock:
                if len(self._lexemes) + len(parsed) > PARSED_WORDS_LIMIT:
                    self._lexemes.clear()
                self._lexemes.update(parsed)
        return found


parsed_words = ParsedWords()


def word_terms(words, using):
    """A Term per word that has lexemes, parsed by PostgreSQL exactly as the documents were."""
    if not words:
        return []
    lexemes_of = parsed_words.get(words, using)
    terms, seen = [], set()
    for word in words:
        key = tuple(sorted(lexemes_of[word]))
        if key and key not in seen:  # a stop word has none; a repeated word counts once
            seen.add(key)
            text = " & ".join("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in key)
            terms.append(Term(text, key))
    return terms


class LexemeFrequencies:
    """The fraction of memories holding each common lexeme, from ANALYZE, cached per process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cache = {}  # using -> (read at, {lexeme: fraction}, floor, rows in the table)

    def clear(self):
        with self._lock:
            self._cache.clear()

    def get(self, using):
        """({lexeme: fraction of rows}, the fraction assumed for any other lexeme (None if unknown), rows).

        rows is ANALYZE's estimate of the table's row count, what turns a fraction into a number
        of rows a term selects.
        """
        with self._lock:
            cached = self._cache.get(using)
            if cached and time.monotonic() - cached[0] < STATISTICS_TTL_SECONDS:
                return cached[1:]
        frequencies, floor, rows = self.read(using)
        with self._lock:
            self._cache[using] = (time.monotonic(), frequencies, floor, rows)
        return frequencies, floor, rows

    @staticmethod
    def read(using):
        from memory.models import Memory  # memory.models imports the search package's users

        table = Memory._meta.db_table
        sql = ("SELECT most_common_elems::text::text[], most_common_elem_freqs,"
               " (SELECT reltuples FROM pg_class WHERE oid = %s::regclass) FROM pg_stats"
               " WHERE schemaname = current_schema() AND tablename = %s AND attname = 'search_vector'")
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [table, table])
            row = cursor.fetchone()
            if row is None:
                # Never analysed (a fresh database, before autovacuum's first pass): analyse the
                # one column now, once per process and period, rather than rank without rarity.
                cursor.execute(f"ANALYZE {connections[using].ops.quote_name(table)} (search_vector)")
                cursor.execute(sql, [table, table])
                row = cursor.fetchone()
        if not row or not row[0]:
            return {}, None, None
        lexemes, fractions, rows = row
        # The last three numbers are the minimum, maximum and null fraction, not lexemes'.
        frequencies = dict(zip(lexemes, fractions[:len(lexemes)]))
        # Postgres's own estimate for an element outside the list: half the rarest listed one.
        return frequencies, min(frequencies.values()) / 2, max(rows, 0.0)


lexeme_frequencies = LexemeFrequencies()


def idf(fraction):
    """BM25's inverse document frequency for a term in `fraction` of the documents."""
    fraction = min(max(fraction, 1e-6), 1.0)
    return math.log(1 + (1 - fraction + 0.5e-6) / (fraction + 0.5e-6))


def query_terms(query, using="default"):
    """The query's terms, each weighted by its rarity; [] when nothing in it is searchable."""
    rest, dated = date_terms(query)
    terms = word_terms(rest.split(), using) + dated
    if not terms:
        return []
    frequencies, floor, rows = lexeme_frequencies.get(using)
    if floor is None:  # no figures (an empty table): every term counts the same
        return terms
    weighted = []
    for term in terms:
        # A term's lexemes are AND-ed: it is at most as common as its rarest lexeme.
        fraction = min(frequencies.get(lexeme, floor) for lexeme in term.lexemes)
        weighted.append(Term(term.text, term.lexemes, idf(fraction), fraction, fraction * rows))
    return weighted
