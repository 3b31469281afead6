"""AI enrichment of completed documents: classification, entities, sentiment, quality; classifier retraining.

Everything runs locally and deterministically. The classifier is nearest-centroid over document
vectors (the mean of a document's chunk embeddings): retraining is recomputing the centroids
from the documents people labelled, whose chunk text includes the validators' corrections (a
correction re-embeds its chunk). Each retraining keeps its before/after accuracy, measured
leave-one-out on the labelled documents, in the new version's metrics.
"""

import re
from collections import Counter

import numpy as np
from django.db import transaction
from django.utils import timezone

from memory.graph.models import Entity
from memory.graph.extraction import guess_type, normalize_name  # the graph's own keys, so names link up
from .models import Chunk, Document, DocumentClassifier, DocumentLabel

NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?:\s+(?:[A-Z][a-z]+|[A-Z]{2,}|of|de|von))*\s+(?:[A-Z][a-z]+|[A-Z]{2,})\b"
                  r"|\b[A-Z][a-z]+\s+(?:Corp|Inc|Ltd|GmbH|LLC|AG|SA)\b")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
DATE = re.compile(rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}} (?:{MONTHS}) \d{{4}}\b|\b(?:{MONTHS}) \d{{1,2}}, \d{{4}}\b"
                  rf"|\b(?:{MONTHS}) \d{{4}}\b")
PLACE_CUE = re.compile(r"\b(?:in|at|from|to|near)\s+$")
PLACE = re.compile(r"\b(?:in|at|from|near)\s+([A-Z][a-z]{2,}(?:\s+[A-Z][a-z]+)?)\b")
GIVEN_NAMES = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "john", "mary", "anna", "peter",
               "paul", "maria", "david", "sarah", "michael", "laura", "james", "emma"}
ORG_WORDS = {"corp", "inc", "ltd", "gmbh", "llc", "ag", "sa", "company", "team", "office", "university", "bank"}
POSITIVE = set("good great excellent improved success successful resolved fast faster stable happy positive "
               "grew growth win praised reliable".split())
NEGATIVE = set("bad failed failure broken slow slower outage incident error errors full complained angry "
               "negative lost crash crashed blocked risk".split())


def document_text(document):
    return "\n\n".join(document.chunks.filter(excluded=False).order_by("ordinal").values_list("text", flat=True))


def find_entities(text):
    """[(name, type)] for people, organisations and places by their surface cues, and dates."""
    found = {}
    for match in NAME.finditer(text):
        name = match.group(0).strip()
        words = name.lower().split()
        if words[-1] in ORG_WORDS:
            kind = "organization"
        elif PLACE_CUE.search(text[max(0, match.start() - 8):match.start()]) and len(words) <= 2:
            kind = "place"
        elif words[0] in GIVEN_NAMES and len(words) == 2:
            kind = "person"
        else:
            kind = guess_type(name) or "organization"
        found.setdefault(normalize_name(name), (name, kind))
    for match in PLACE.finditer(text):
        name = match.group(1)
        if name.split()[0] not in MONTHS.split("|"):
            found.setdefault(normalize_name(name), (name, "place"))
    for match in DATE.finditer(text):
        found.setdefault(match.group(0), (match.group(0), "date"))
    return list(found.values())


def sentiment(text):
    """-1..1 from positive and negative words (0 when neither appears)."""
    words = Counter(re.findall(r"[a-z]+", text.lower()))
    pos, neg = sum(words[w] for w in POSITIVE), sum(words[w] for w in NEGATIVE)
    return round((pos - neg) / (pos + neg), 3) if pos + neg else 0.0


def quality(document, text):
    """0..1: extraction confidence, enough text, and text that reads as words rather than noise."""
    confidences = list(document.chunks.values_list("confidence", flat=True))
    confidence = sum(confidences) / len(confidences) if confidences else 0.0
    tokens = re.findall(r"\S+", text)
    wordlike = sum(1 for t in tokens if re.fullmatch(r"[A-Za-z][a-z'-]*[.,;:!?]?|\d[\d.,:/-]*", t)) / max(len(tokens), 1)
    length = min(len(tokens) / 200, 1.0)
    return round(0.5 * confidence + 0.3 * wordlike + 0.2 * length, 3)


def link_entities(document, entities):
    """Put the people, organisations and places into the document's project graph; return their ids.

    A document uploaded without a project links none: guessing one (say, the workspace's first)
    would file them where nobody looks.
    """
    project = document.project
    if project is None:
        return []
    ids = []
    for name, kind in entities:
        if kind == "date":
            continue
        entity, _ = Entity.objects.get_or_create(
            project=project, normalized_name=normalize_name(name), type=kind,
            defaults={"workspace_id": document.workspace_id, "name": name})
        ids.append(entity.pk)
    return ids


def document_vector(document):
    vectors = [np.asarray(v, dtype=np.float32) for v in
               Chunk.objects.filter(document=document, excluded=False, embedding__isnull=False)
               .values_list("embedding", flat=True)]
    if not vectors:
        return None
    mean = np.mean(vectors, axis=0)
    return mean / max(np.linalg.norm(mean), 1e-12)


def predict(centroids, vector):
    """(label, cosine score) of the nearest centroid, or (None, 0)."""
    best, score = None, -2.0
    for label, centroid in centroids.items():
        similarity = float(np.dot(vector, np.asarray(centroid, dtype=np.float32)))
        if similarity > score:
            best, score = label, similarity
    return (best, round(score, 4)) if best is not None else (None, 0.0)


def classify(document):
    """Label the document with the workspace's newest classifier; return (label, score) or None."""
    classifier = DocumentClassifier.objects.filter(workspace=document.workspace_id).first()
    vector = document_vector(document)
    if classifier is None or vector is None or not classifier.centroids:
        return None
    label, score = predict(classifier.centroids, vector)
    with transaction.atomic():
        DocumentLabel.objects.filter(document=document, source=DocumentLabel.Source.PREDICTED).delete()
        DocumentLabel.objects.create(document=document, name=label, source=DocumentLabel.Source.PREDICTED, score=score)
    return label, score


def enrich_document(document):
    """Entities (linked into the graph), sentiment, quality and the predicted label; return them."""
    text = document_text(document)
    entities = find_entities(text)
    entity_ids = link_entities(document, entities)
    enrichment = {"entities": [{"name": n, "type": t} for n, t in entities], "entity_ids": entity_ids,
                  "sentiment": sentiment(text), "quality": quality(document, text)}
    predicted = classify(document)
    if predicted is not None:
        enrichment["label"], enrichment["label_score"] = predicted
    # Only the enrichment keys: the extraction's title/author/created stay as they were.
    Document.objects.filter(pk=document.pk).update(metadata={**document.metadata, "enrichment": enrichment})
    return enrichment


def _centroids(examples):
    sums = {}
    for label, vector in examples:
        sums.setdefault(label, []).append(vector)
    centroids = {}
    for label, vectors in sums.items():
        mean = np.mean(vectors, axis=0)
        centroids[label] = (mean / max(np.linalg.norm(mean), 1e-12)).tolist()
    return centroids


def _accuracy(examples, centroids_for):
    """Share of examples the centroids (built by centroids_for(index)) label right."""
    if not examples:
        return None
    right = sum(1 for i, (label, vector) in enumerate(examples) if predict(centroids_for(i), vector)[0] == label)
    return round(right / len(examples), 4)


def retrain_classifier(workspace):
    """Fit a new classifier version from manual labels; keep before/after accuracy; return it (None if no data)."""
    examples = []
    for label in DocumentLabel.objects.filter(document__workspace=workspace, source=DocumentLabel.Source.MANUAL
                                              ).select_related("document"):
        vector = document_vector(label.document)
        if vector is not None:
            examples.append((label.name, vector))
    if len({label for label, _ in examples}) < 2:
        return None
    previous = DocumentClassifier.objects.filter(workspace=workspace).first()
    before = _accuracy(examples, lambda i: previous.centroids) if previous and previous.centroids else None
    # Leave-one-out: each example is judged by centroids fitted without it.
    after = _accuracy(examples, lambda i: _centroids(examples[:i] + examples[i + 1:]))
    return DocumentClassifier.objects.create(
        workspace=workspace, version=(previous.version + 1) if previous else 1, trained_at=timezone.now(),
        centroids=_centroids(examples),
        metrics={"examples": len(examples), "labels": sorted({label for label, _ in examples}),
                 "before": {"accuracy": before, "version": previous.version if previous else None},
                 "after": {"accuracy": after}})
