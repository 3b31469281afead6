"""Knowledge-graph extraction: a memory's facts become entities and the relations between them."""

import logging
import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from memory.core.memories import GRAPH_CLAIM_LEASE
from memory.models import Entity, Memory, Relation, content_hash
from memory.providers.text_generation import ProviderError, get_text_generator
from memory.graph.communities import lock_graph, mark_graph_changed

logger = logging.getLogger("memory.graph")

PERSON, ORGANIZATION, PLACE, OTHER = "person", "organization", "place", "other"

# What a predicate says about its subject and object ("Alice works_at Acme": a person, an organization).
# located_in leaves its subject open: offices, teams and cities are all located somewhere.
PREDICATE_TYPES = {
    "works_at": (PERSON, ORGANIZATION),
    "joined": (PERSON, ORGANIZATION),
    "founded": (PERSON, ORGANIZATION),
    "reports_to": (PERSON, PERSON),
    "leads": (PERSON, ""),
    "manages": (PERSON, ""),
    "acquired": (ORGANIZATION, ORGANIZATION),
    "located_in": ("", PLACE),
}
ROLE_SUFFIX = "_of"  # ceo_of, cto_of, director_of: a person holding a role in an organization

ORGANIZATION_WORDS = frozenset(
    "inc inc. corp corp. corporation co ltd llc plc gmbh ag sa company group bank university institute "
    "foundation agency labs systems technologies".split()
)
PLACE_WORDS = frozenset("city county state province street avenue river lake mount island bay valley".split())
PERSON_TITLES = frozenset("mr mr. mrs mrs. ms ms. dr dr. prof prof. sir".split())
# What an is_a object says about its subject ("Acme is a software company").
CLASS_TYPES = (
    (re.compile(r"\b(?:company|corporation|startup|firm|bank|agency|organi[sz]ation|vendor|team)\b"), ORGANIZATION),
    (re.compile(r"\b(?:city|country|town|village|region|state|capital)\b"), PLACE),
    (re.compile(r"\b(?:engineer|developer|manager|designer|founder|person|man|woman|scientist)\b"), PERSON),
)


def normalize_name(name):
    """Return the matching key of a name: lowercase, no punctuation, single spaces, no leading "the"."""
    key = re.sub(r"[^\w\s]", "", name.casefold())
    key = " ".join(key.split())
    return key[4:] if key.startswith("the ") else key


def display_name(name):
    """Return a surface form without the leading "the" and extra whitespace."""
    name = " ".join(name.split())
    return name[4:] if name.lower().startswith("the ") else name


def guess_type(name, role_type=""):
    """Guess person/organization/place from the name's own cues, then from the predicate's role."""
    words = name.casefold().split()
    if words and words[0] in PERSON_TITLES:
        return PERSON
    if words and words[-1] in ORGANIZATION_WORDS:
        return ORGANIZATION
    if words and words[-1] in PLACE_WORDS:
        return PLACE
    return role_type


def roles(triple):
    """Return the types a triple's predicate implies for its subject and object."""
    if triple.predicate in PREDICATE_TYPES:
        return PREDICATE_TYPES[triple.predicate]
    if triple.predicate.endswith(ROLE_SUFFIX):
        return PERSON, ORGANIZATION
    if triple.predicate == "is_a":
        for pattern, kind in CLASS_TYPES:
            if pattern.search(triple.object.casefold()):
                return kind, OTHER
        return "", OTHER
    return "", ""


def upsert_entity(memory, surface, role_type, cache):
    """Return the project's canonical entity for a surface form, creating or enriching it."""
    name = display_name(surface)
    key = normalize_name(name)
    if not key:
        return None
    if key in cache:
        entity = cache[key]
    else:
        # Any type matches: one name is one thing within a project until resolution says otherwise.
        entity = (Entity.objects.filter(project=memory.project, normalized_name=key)
                  .select_related("canonical").order_by(F("canonical_id").asc(nulls_first=True), "pk").first())
        # A merged name keeps pointing at its survivor, so new facts land on the survivor.
        while entity is not None and entity.canonical_id is not None:
            entity = entity.canonical
        if entity is None:
            # get_or_create: a concurrent extraction may be creating the same name right now.
            entity, created = Entity.objects.get_or_create(
                project=memory.project, normalized_name=key, type=guess_type(name, role_type),
                defaults={"workspace_id": memory.workspace_id, "name": name},
            )
            entity.was_created = created
        cache[key] = entity
    changed = []
    kind = guess_type(name, role_type)
    if not entity.type and kind and not Entity.objects.filter(
        project=memory.project, normalized_name=entity.normalized_name, type=kind
    ).exists():
        entity.type = kind
        changed.append("type")
    if name != entity.name and name not in entity.aliases:
        entity.aliases = [*entity.aliases, name]
        changed.append("aliases")
    if changed:
        entity.save(update_fields=changed)
    return entity


def extract_graph(memory):
    """Replace a memory's relations with the facts its text states; return what changed."""
    given, text = memory, memory.content
    # The generator may be a slow HTTP call: keep it outside the transaction and its locks.
    triples = get_text_generator().extract_triples(text)
    with transaction.atomic():
        # Two workers extracting the same memory take turns: the second replaces the first's rows.
        # NO KEY UPDATE (as in lock_graph): rows pointing at the memory may be inserted meanwhile.
        memory = Memory.objects.select_for_update(no_key=True).filter(pk=given.pk).first()
        if memory is None:  # deleted while the generator was reading it
            return {"entities_created": 0, "relations_created": 0, "relations_deleted": 0}
        lock_graph(memory.project_id)
        old = Relation.objects.filter(source_memory=memory)
        old_edges = sorted(old.values_list("subject_id", "predicate", "object_id", "confidence"))
        old.delete()
        cache, relations = {}, []
        for triple in triples:
            subject_type, object_type = roles(triple)
            subject = upsert_entity(memory, triple.subject, subject_type, cache)
            obj = upsert_entity(memory, triple.object, object_type, cache)
            if subject is None or obj is None or subject.pk == obj.pk:
                continue
            relations.append(Relation(
                workspace_id=memory.workspace_id, project_id=memory.project_id, subject=subject,
                predicate=triple.predicate[:100], object=obj,
                confidence=min(max(float(triple.confidence), 0.0), 1.0), source_memory=memory,
            ))
        Relation.objects.bulk_create(relations)
        entities_created = sum(1 for entity in cache.values() if getattr(entity, "was_created", False))
        # The hash of the text actually read: if it was edited meanwhile, the memory stays stale.
        given.graph_extracted_at, given.graph_extracted_hash = timezone.now(), content_hash(text)
        Memory.objects.filter(pk=memory.pk).update(graph_extracted_at=given.graph_extracted_at,
                                                  graph_extracted_hash=given.graph_extracted_hash)
        new_edges = sorted((r.subject_id, r.predicate, r.object_id, r.confidence) for r in relations)
        if entities_created or new_edges != old_edges:
            # Re-reading an unchanged text leaves the version, and so the communities, alone.
            mark_graph_changed(memory.project_id)
    return {"entities_created": entities_created, "relations_created": len(relations),
            "relations_deleted": len(old_edges)}


def extract_one(memory):
    """Claim, extract and release one memory; return the counts, or None if another pass holds it."""
    memory = memory.claim_for_graph()
    if memory is None:
        return None
    try:
        return extract_graph(memory)
    finally:
        memory.release_graph_claim()


def extract_next(memories):
    """Claim and extract the oldest memory of `memories`; return (memory, counts or None), None if none left.

    Counts are None when the generator failed: the memory keeps its claim, so it waits out the lease
    before it is tried again and the rest of the queue goes on instead of failing on it every pass.
    """
    memory = memories.claim_next_for_graph()
    if memory is None:
        return None
    try:
        counts = extract_graph(memory)
    except ProviderError:
        logger.warning("graph: extraction of memory %s failed; retrying after %s", memory.pk, GRAPH_CLAIM_LEASE,
                       exc_info=True)
        return memory, None
    except BaseException:
        memory.release_graph_claim()
        raise
    memory.release_graph_claim()
    return memory, counts


def extract_batch(memories, limit=200, progress=None):
    """Extract up to `limit` memories of a queryset, oldest first, one claim at a time; return the counts.

    `progress(done, total)` is called after each memory so a task can report how far it got.
    """
    total = memories.graph_unclaimed().order_by()[:limit].count()
    totals = {"memories": 0, "entities_created": 0, "relations_created": 0, "relations_deleted": 0, "failed": 0}
    projects = set()
    for done in range(1, limit + 1):
        step = extract_next(memories)
        if step is None:
            break
        memory, counts = step
        if counts is None:
            totals["failed"] += 1
        else:
            totals["memories"] += 1
            for name in ("entities_created", "relations_created", "relations_deleted"):
                totals[name] += counts[name]
            projects.add(memory.project_id)
        if progress is not None:
            progress(done, max(total, done))
    logger.info("graph: %(memories)d memories read (%(failed)d failed), %(entities_created)d entities and "
                "%(relations_created)d relations created, %(relations_deleted)d relations replaced", totals)
    return {**totals, "projects": sorted(projects)}


def process_extraction_queue(limit=200, progress=None):
    """Extract the graph of up to `limit` memories never extracted, oldest first; return the counts."""
    return extract_batch(Memory.objects.graph_pending(), limit, progress)


def refresh_stale_graphs(limit=200, progress=None):
    """Re-extract up to `limit` memories whose text changed since their extraction; return the counts."""
    return extract_batch(Memory.objects.graph_stale(), limit, progress)
