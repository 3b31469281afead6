"""Knowledge-graph extraction: a memory's facts become entities and the relations between them."""

import logging
import re

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Entity, Memory, Relation
from ..providers.text_generation import get_text_generator

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
    """Replace a memory's relations with the facts its text states; return what was created."""
    # The generator may be a slow HTTP call: keep it outside the transaction and its locks.
    triples = get_text_generator().extract_triples(memory.content)
    entities_created = 0
    with transaction.atomic():
        # Two workers extracting the same memory take turns: the second replaces the first's rows.
        memory = Memory.objects.select_for_update().get(pk=memory.pk)
        Relation.objects.filter(source_memory=memory).delete()
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
        memory.graph_extracted_at = timezone.now()
        memory.save(update_fields=["graph_extracted_at"])
    return {"entities_created": entities_created, "relations_created": len(relations)}


def pending_memories(limit=200):
    """Return the oldest memories the extraction has not read yet."""
    return list(Memory.objects.graph_pending().order_by("created_at", "pk")[:limit])


def process_extraction_queue(limit=200, progress=None):
    """Extract the graph of up to `limit` pending memories, oldest first; return the counts.

    `progress(done, total)` is called after each memory so a task can report how far it got.
    """
    memories = pending_memories(limit)
    totals = {"memories": 0, "entities_created": 0, "relations_created": 0, "projects": []}
    projects = set()
    for done, memory in enumerate(memories, start=1):
        counts = extract_graph(memory)
        totals["memories"] += 1
        totals["entities_created"] += counts["entities_created"]
        totals["relations_created"] += counts["relations_created"]
        projects.add(memory.project_id)
        if progress is not None:
            progress(done, len(memories))
    totals["projects"] = sorted(projects)
    logger.info("graph: %(memories)d memories read, %(entities_created)d entities and "
                "%(relations_created)d relations created", totals)
    return totals
