"""English rules for keyphrases: closed word lists, and whether a candidate reads as a noun phrase.

YAKE's stopword list says which words are function words; these lists add what it leaves out
(verb forms, number and time words, predicative adjectives). Only words written in lowercase
are judged by them: a capitalised word is a name or starts a sentence.
"""

NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
    "thousand million billion dozen".split()
)
TIME_WORDS = frozenset(
    "minute hour day night morning noon afternoon evening midnight week weekend month quarter year "
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
# What counts or measures something ("20 percent", "3 times", "500 ms"): never the topic itself.
QUANTITY_WORDS = frozenset(
    "percent percentage percentages pct per cent times ms sec secs kb mb gb tb km kg lbs dollars euros bucks "
    "usd eur gbp points pts units".split()
)
# Nouns too general to name a topic alone or to gather phrases under them ("end" from "front end"
# and "back end", "thing", "lot").
GENERIC_NOUNS = frozenset(
    "end ends thing things stuff way ways lot lots bit bits kind kinds sort sorts part parts side sides "
    "point points case cases time times number numbers one ones something anything everything nothing".split()
)
# "Yesterday Chen", "standup today": a word that points at a day says when, never what.
DEICTIC_TIME_WORDS = frozenset("today tomorrow yesterday tonight".split())
# Capitalised mid-sentence but not part of a name next to them ("in May Acme shipped").
NOT_NAME_PARTS = TIME_WORDS | DEICTIC_TIME_WORDS | frozenset(
    "i january february march april may june july august september october november december".split()
)
# Verb forms that are hardly ever nouns: simple pasts and the forms of verbs without a common noun twin.
VERBS = frozenset(
    "grew went took gave told knew came became began wrote spoke ran chose drove forgot won saw led "
    "make makes give gives take takes tell tells think thinks let lets agree agrees decide decides "
    "depend depends belong belongs require requires complain complains acquire acquires settle settles "
    "finish finishes follow follows fails manages add adds lives grows remains happens occurs exists "
    "appears".split()
)
# Participles that work as adjectives before a noun ("lost packets") and as verbs elsewhere ("space left").
PARTICIPLES = frozenset(
    "left lost built kept held paid sent sold bought found made shown given taken gone grown written "
    "broken chosen frozen hidden stolen spoken forgotten begun".split()
)
ED_NOUNS = frozenset("hundred embed shred sacred naked wicked speed greed breed creed tweed steed".split())
# Present forms that are verbs right after a name ("Chen leads") though nouns elsewhere ("sales leads").
THIRD_PERSON = frozenset(
    "leads works owns runs joins reports moves builds reviews fixes plans ships merges deploys handles "
    "creates sends writes starts helps calls leaves pays meets holds approves asks".split()
)
# Words that open an object: a word right before one is a verb ("app logs them out", "needs drive the").
OBJECT_OPENERS = frozenset("the a an them him her us me my our your their his its".split())
# After a subject pronoun comes a verb ("it renews", "we agreed"); "that" and "which" also open nouns.
SUBJECT_PRONOUNS = frozenset("i we you he she they it who".split())
# After these the next word is a verb ("should move", "can export").
MODALS = frozenset("will would can could should must may might shall".split())
# After these a lone word or an -ing word is a predicate ("was set", "is fixing"), not a thing.
BE = frozenset("am is are was were be been being".split())
NAME_CONNECTORS = frozenset("of and de del della di da do dos du la le van von der den y e et und für".split())
# What something is like, not what it is: such a word cannot end (head) a noun phrase.
PREDICATE_ADJECTIVES = frozenset(
    "full empty slow fast good bad old big small large larger smaller bigger late early ready fine ok "
    "okay available possible important different free busy stable flaky urgent happy unhappy".split()
)


def reads_as_noun_phrase(words: list[str], before_word: str, after_word: str, stopwords: frozenset) -> bool:
    """Apply the closed lists; a lowercase word is judged by its form and the words around the phrase."""
    before, after = before_word.casefold(), after_word.casefold()
    last = len(words) - 1
    if last == 0 and words[0].casefold().removesuffix("s") in TIME_WORDS:
        return False  # "month", "days"
    if any(word.casefold() in DEICTIC_TIME_WORDS for word in words):
        return False
    if last == 0 and words[0].casefold() in GENERIC_NOUNS:
        return False  # "end", "things"
    if words[-1].islower() and words[-1] in QUANTITY_WORDS:
        return False  # "percent", "twenty percent", "latency ms"
    if all(word.casefold() in NUMBER_WORDS or word.replace(".", "").replace(",", "").isdigit() for word in words):
        return False  # "2024", "15"
    first = words[0]
    if first.islower():
        if before in SUBJECT_PRONOUNS:
            return False  # "it renews", "she starts"
        if before in MODALS or (before == "to" and last == 0 and after in OBJECT_OPENERS):
            return False  # "should move", "to export their dashboards"
        if before in BE and (last == 0 or first.endswith("ing")):
            return False  # "was set", "is fixing"
    for index, word in enumerate(words):
        if not word.islower():
            continue
        if word in NUMBER_WORDS or word in VERBS:
            return False
        if word in PARTICIPLES or looks_past_tense(word):
            # "failed nightly backup" after "the" or "another" is an adjective; "moved cloud spending"
            # after "review" and "acquired Initech" are verbs.
            adjective = index == 0 and last > 0 and words[1].islower() and (not before or before in stopwords)
            if not adjective:
                return False
        previous = words[index - 1] if index else before_word
        if word in THIRD_PERSON and previous[:1].isupper():
            return False  # "Chen leads", "Kim manages"
        if index == last and after in OBJECT_OPENERS:
            # A noun is seldom followed by an article or an object pronoun; a verb usually is.
            return False  # "app logs them out", "Chen reviews the contract", "renewing their contract"
        if index == last and word in PREDICATE_ADJECTIVES:
            return False  # "disk full", "cluster down"
    return True


def looks_past_tense(word: str) -> bool:
    """Tell whether a lowercase word ends like a regular past tense or participle ("spiked", "failed")."""
    return len(word) > 4 and word.endswith("ed") and not word.endswith("eed") and word not in ED_NOUNS
