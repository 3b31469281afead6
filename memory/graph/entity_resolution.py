"""Entity resolution: find names of the same thing within a project and fold them into one entity."""

import logging
from collections import Counter, defaultdict

from django.db import transaction
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from memory.models import Entity, EntityMerge, Relation
from memory.providers.embeddings import get_embedding_provider
from memory.graph.communities import lock_graph, mark_graph_changed

logger = logging.getLogger("memory.graph")

EXACT, ACRONYM, PREFIX, FUZZY = "normalised name", "acronym", "prefix", "fuzzy match"
# Tried in this order: the surest evidence merges first, so later pairs see its survivors.
REASON_ORDER = (EXACT, ACRONYM, PREFIX, FUZZY)
FUZZY_MIN_SCORE = 90  # rapidfuzz token_sort_ratio, 0..100
# Cosine of the names' embeddings that confirms a candidate. Acronyms embed far from their expansions
# ("UN" / "United Nations" 0.64, "NYC" / "New York City" 0.92); a prefix needs more ("Amazon" /
# "Amazon Web Services" 0.65 are two things, "New York" / "New York City" 0.95 are one).
MIN_SIMILARITY = {EXACT: 0.5, ACRONYM: 0.6, PREFIX: 0.7, FUZZY: 0.6}
STOP_WORDS = frozenset("of the and for a an in on at de la le".split())
# Legal suffixes say nothing about identity: "Acme Corp" and "Acme" are the same company.
LEGAL_SUFFIXES = frozenset("inc corp corporation co ltd llc plc gmbh ag sa".split())


def match_key(entity):
    """Return the normalised name without legal suffixes."""
    words = entity.normalized_name.split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


def initials(key):
    """Return the initials of a multi-word name's significant words ("new york city" -> "nyc")."""
    words = [word for word in key.split() if word not in STOP_WORDS]
    return "".join(word[0] for word in words) if len(words) > 1 else ""


def types_match(a, b):
    return not a.type or not b.type or a.type == b.type


def candidate_pairs(entities):
    """Return {(i, j): reason} for index pairs whose names suggest one thing, the surest reason kept."""
    keys = [match_key(entity) for entity in entities]
    pairs = {}

    def add(i, j, reason):
        pair = (min(i, j), max(i, j))
        if i != j and (pair not in pairs or REASON_ORDER.index(reason) < REASON_ORDER.index(pairs[pair])):
            pairs[pair] = reason

    by_key, by_initials, by_prefix = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, key in enumerate(keys):
        by_key[key].append(i)
        if acronym := initials(key):
            by_initials[acronym].append(i)
        words = key.split()
        # Every shorter leading run of words: "new york city" is found under "new york" and "new".
        for end in range(1, len(words)):
            by_prefix[" ".join(words[:end])].append(i)
    for i, key in enumerate(keys):
        for j in by_key[key]:
            add(i, j, EXACT)
        if " " not in key:
            for j in by_initials.get(key, ()):
                add(i, j, ACRONYM)
        for j in by_prefix.get(key, ()):
            add(i, j, PREFIX)
    if len(keys) > 1:
        # One C-level pass over all pairs; n is the project's entity count, so n^2 scores stay cheap.
        scores = cdist(keys, keys, scorer=fuzz.token_sort_ratio, score_cutoff=FUZZY_MIN_SCORE, workers=1)
        for i, j in zip(*scores.nonzero()):
            if i < j:
                add(int(i), int(j), FUZZY)
    return pairs


def relation_counts(project):
    """Return {entity id: relations it takes part in} for a project."""
    counts = Counter()
    relations = Relation.objects.filter(project=project)
    counts.update(relations.values_list("subject_id", flat=True))
    counts.update(relations.values_list("object_id", flat=True))
    return counts


def choose_survivor(a, b, counts):
    """Keep the entity with more relations, then the longer name, then the older row."""
    return max((a, b), key=lambda e: (counts[e.pk], len(e.name), -e.pk))


def merge_entities(survivor, merged, reason, similarity=None):
    """Fold `merged` into `survivor` (aliases, relations, canonical link) and audit it; None if stale."""
    with transaction.atomic():
        # The project's graph lock first, as extraction and community detection take it, so a
        # merge never meets them holding entity rows in the other order (a deadlock).
        lock_graph(survivor.project_id)
        # Lock both rows in pk order (no deadlock with a resolver merging the other way) and
        # re-check them: another resolver may have merged one of them since we read it.
        locked = {e.pk: e for e in Entity.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])
                  .order_by("pk")}
        survivor, merged = locked.get(survivor.pk), locked.get(merged.pk)
        if survivor is None or merged is None or survivor.canonical_id or merged.canonical_id:
            return None
        moved = Relation.objects.filter(subject=merged).update(subject=survivor)
        moved += Relation.objects.filter(object=merged).update(object=survivor)
        # Names merged into `merged` earlier now point straight at the survivor: one hop, always.
        Entity.objects.filter(canonical=merged).update(canonical=survivor)
        names = [merged.name, *merged.aliases]
        survivor.aliases = list(dict.fromkeys(
            [*survivor.aliases, *(name for name in names if name != survivor.name)]))
        fields = ["aliases"]
        if not survivor.type and merged.type and not Entity.objects.filter(
            project_id=survivor.project_id, normalized_name=survivor.normalized_name, type=merged.type
        ).exists():
            survivor.type = merged.type
            fields.append("type")
        survivor.save(update_fields=fields)
        merged.canonical = survivor
        merged.save(update_fields=["canonical"])
        mark_graph_changed(survivor.project_id)  # the communities are out of date
        return EntityMerge.objects.create(
            workspace_id=survivor.workspace_id, project_id=survivor.project_id, survivor=survivor,
            merged_entity=merged, merged_name=merged.name, reason=reason,
            similarity=None if similarity is None else round(float(similarity), 4), relations_moved=moved,
        )


def resolve_entities(project, progress=None):
    """Merge the project's entities that name the same thing; return the EntityMerge rows written."""
    entities = list(Entity.objects.filter(project=project, canonical__isnull=True).order_by("pk"))
    pairs = candidate_pairs(entities)
    if not pairs:
        return []
    involved = sorted({i for pair in pairs for i in pair})
    vectors = get_embedding_provider().embed([entities[i].name for i in involved])
    row = {i: n for n, i in enumerate(involved)}
    counts = relation_counts(project)
    # Which entity each one has been folded into during this run.
    survivor_of = {entity.pk: entity for entity in entities}

    def current(entity):
        while survivor_of[entity.pk] is not entity:
            entity = survivor_of[entity.pk]
        return entity

    ordered = sorted(pairs.items(), key=lambda item: (REASON_ORDER.index(item[1]), item[0]))
    merges = []
    for done, ((i, j), reason) in enumerate(ordered, start=1):
        if progress is not None:
            progress(done, len(ordered))
        similarity = float(vectors[row[i]] @ vectors[row[j]])
        a, b = current(entities[i]), current(entities[j])
        if a is b or similarity < MIN_SIMILARITY[reason] or not types_match(a, b):
            continue
        survivor = choose_survivor(a, b, counts)
        merged = b if survivor is a else a
        merge = merge_entities(survivor, merged, reason, similarity)
        if merge is not None:
            counts[survivor.pk] += counts.pop(merged.pk, 0)
            survivor.type = survivor.type or merged.type
            survivor_of[merged.pk] = survivor
            merges.append(merge)
    logger.info("graph: %d entities merged in project %s", len(merges), project.pk)
    return merges
