"""Topics and atoms from messages: the local extractor (embeddings + YAKE keywords).

A message joins the existing topic whose centroid is nearest when the cosine reaches the
`topic_threshold`; the rest are grouped among themselves (leader clustering at the same threshold)
and each group becomes a topic named by its keywords. Messages that carry signal become atoms;
an atom within `similarity_threshold` cosine of an existing one only adds its source message.
With a knowledge agent row of kind `llm`, the atoms' kinds and titles come from that model
(knowledge_agent); topics and deduplication stay local.
"""

import re

import numpy as np
from django.db import transaction
from django.utils import timezone
from pgvector.django import CosineDistance

from memory.providers.keywords import extract_keyphrases, extract_topics

from ..models import AgentConfig, Atom, ChatTopic, Message, NoiseClass
from .embedding import embed_atoms, embed_messages, provider_for
from .knowledge_agent import describe_with_llm

BATCH_SIZE = 50
MIN_TOPIC_CHARS = 20  # "ok", "+1", "lol": no topic of their own
MIN_ATOM_CHARS = 30
AGENT_LOG_LINES = 20  # the last problems the LLM agent had, kept in the job's result
KIND_PATTERNS = [
    (Atom.Kind.DECISION, re.compile(r"\b(decided|we will|we'll|agreed|let's go with|going with|approved)\b", re.I)),
    (Atom.Kind.PROBLEM, re.compile(r"\b(fail\w*|error|broken|bug|crash\w*|down|outage|issue|slow)\b", re.I)),
    (Atom.Kind.TASK, re.compile(r"\b(need to|needs to|todo|to do|please|should|must|will you|can you)\b", re.I)),
]


def parameters(agent=None):
    agent = agent or AgentConfig.default(AgentConfig.Purpose.KNOWLEDGE)
    return {"similarity_threshold": 0.9, "topic_threshold": 0.55, "max_keywords": 5, **(agent.parameters or {})}


def is_candidate(message):
    """A message that can become an atom: not noise, and long enough to say something."""
    return message.noise_class != NoiseClass.NOISE and len(message.text) >= MIN_ATOM_CHARS


def describe(messages, agent):
    """{message pk: (kind, title)} for the candidates, from the agent; return it and the agent's problems."""
    if not agent.is_llm:
        return {}, []  # make_atoms applies the local rules to the atoms it actually creates
    candidates = [m for m in messages if is_candidate(m)]
    described, problems = describe_with_llm(agent, [m.text for m in candidates],
                                            lambda text: (atom_kind(text), atom_title(text)))
    return {m.pk: pair for m, pair in zip(candidates, described)}, problems


def atom_kind(text):
    if text.rstrip().endswith("?"):
        return Atom.Kind.QUESTION
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return Atom.Kind.FACT


def atom_title(text):
    phrases = extract_keyphrases(text, 1)
    words = text.split()
    head = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    return (phrases[0].phrase if phrases else head)[:200]


def _unit(vector):
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def assign_topics(messages, workspace_id, params):
    """Give every message a topic; return the number of topics created."""
    topics = list(ChatTopic.objects.filter(workspace_id=workspace_id, centroid__isnull=False))
    centroids = np.asarray([t.centroid for t in topics], dtype=np.float32) if topics else None
    threshold = params["topic_threshold"]
    members = {}  # topic -> [message]
    groups = []  # [leader vector, [message]] for messages no existing topic takes
    for message in messages:
        if len(message.text.strip()) < MIN_TOPIC_CHARS:
            continue
        vector = np.asarray(message.embedding, dtype=np.float32)
        if centroids is not None:
            similarities = centroids @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                members.setdefault(topics[best], []).append(message)
                continue
        for group in groups:
            if float(group[0] @ vector) >= threshold:
                group[1].append(message)
                break
        else:
            groups.append([vector, [message]])
    created = 0
    for _, group_messages in groups:
        keywords = [t.phrase for t in extract_topics([m.text for m in group_messages], params["max_keywords"])]
        name = (keywords[0] if keywords else atom_title(group_messages[0].text))[:200]
        topic, was_created = ChatTopic.objects.get_or_create(workspace_id=workspace_id, name=name,
                                                             defaults={"keywords": keywords})
        created += was_created
        members.setdefault(topic, []).extend(group_messages)
    for topic, topic_messages in members.items():
        vectors = np.asarray([m.embedding for m in topic_messages], dtype=np.float32)
        total = vectors.sum(axis=0)
        if topic.centroid is not None and topic.message_count:
            total += np.asarray(topic.centroid, dtype=np.float32) * topic.message_count
        topic.centroid = _unit(total)
        topic.message_count += len(topic_messages)
        topic.save(update_fields=["centroid", "message_count"])
        Message.objects.filter(pk__in=[m.pk for m in topic_messages]).update(topic=topic)
        for message in topic_messages:
            message.topic = topic
    return created


def make_atoms(messages, workspace_id, params, descriptions=None):
    """Create atoms from the messages that carry signal; return (created, merged).

    descriptions maps a message pk to its atom's (kind, title) (see describe); missing: the local rules.
    """
    created = merged = 0
    limit = 1.0 - params["similarity_threshold"]  # cosine distance
    descriptions = descriptions or {}
    for message in messages:
        if not is_candidate(message):
            continue
        nearest = (Atom.objects.filter(workspace_id=workspace_id, embedding__isnull=False)
                   .annotate(distance=CosineDistance("embedding", message.embedding)).order_by("distance").first())
        if nearest is not None and nearest.distance <= limit:
            nearest.source_messages.add(message)
            merged += 1
            continue
        # The atom's embedding starts as its message's; embed_atoms_batch refines it from the title.
        kind, title = descriptions.get(message.pk) or (atom_kind(message.text), atom_title(message.text))
        atom = Atom.objects.create(workspace_id=workspace_id, kind=kind, title=title, content=message.text,
                                   topic=message.topic, embedding=message.embedding)
        atom.source_messages.add(message)
        created += 1
    return created, merged


def extract_knowledge(message_ids, on_batch=None):
    """Topics and atoms for the given messages, in batches of 50; return the counts."""
    agent = AgentConfig.default(AgentConfig.Purpose.KNOWLEDGE)
    params = parameters(agent)
    provider = provider_for()
    ids = list(dict.fromkeys(message_ids))
    counts = {"messages": 0, "topics_created": 0, "atoms_created": 0, "atoms_merged": 0, "skipped": 0}
    if agent.is_llm:
        counts.update(agent_problems=0, agent_log=[])
    for start in range(0, len(ids), BATCH_SIZE):
        batch_ids = ids[start:start + BATCH_SIZE]
        embed_messages(batch_ids, provider)
        messages = list(Message.objects.filter(pk__in=batch_ids, embedding__isnull=False)
                        .exclude(text="").select_related("chat"))
        Message.objects.filter(pk__in=batch_ids).update(knowledge_extracted_at=timezone.now())
        counts["skipped"] += len(batch_ids) - len(messages)
        by_workspace = {}
        for message in messages:
            by_workspace.setdefault(message.chat.workspace_id, []).append(message)
        for workspace_id, group in by_workspace.items():
            # Outside the transaction: an LLM call must not hold row locks while it waits.
            descriptions, problems = describe(group, agent)
            if problems:
                counts["agent_problems"] += len(problems)
                counts["agent_log"] = [*counts["agent_log"], *problems][-AGENT_LOG_LINES:]
            with transaction.atomic():
                counts["topics_created"] += assign_topics(group, workspace_id, params)
                created, merged = make_atoms(group, workspace_id, params, descriptions)
            counts["atoms_created"] += created
            counts["atoms_merged"] += merged
        counts["messages"] += len(messages)
        if on_batch is not None:
            on_batch(min(start + BATCH_SIZE, len(ids)), len(ids))
    embed_atoms(list(Atom.objects.filter(source_messages__in=ids).values_list("pk", flat=True).distinct()), provider)
    return counts
