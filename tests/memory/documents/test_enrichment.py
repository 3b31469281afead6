"""Enrichment: entities into the graph, sentiment, quality, classification, and retraining with metrics."""

import pytest

from memory.documents import enrichment
from memory.documents.models import Document, DocumentClassifier, DocumentLabel
from memory.documents.tasks import process_document, retrain_classifier
from memory.models import Entity
from tests.memory.factories import make_project

from .factories import make_workspace, upload

pytestmark = pytest.mark.django_db(transaction=True)

INCIDENT = ("The billing outage was bad: the nightly backup failed and the disk was full. Alice Chen from Acme Corp "
            "met the team in Berlin on 12 March 2025 to review the incident.")
PRAISE = "The new search cluster is fast and stable, customers praised the great improved latency."


def test_entities_sentiment_and_quality_are_found_and_entities_join_the_graph(work):
    workspace = make_workspace()
    make_project(workspace, slug="first")  # older than the document's project: not where entities go
    project = make_project(workspace, slug="incidents")
    Entity.objects.create(workspace=workspace, project=project, name="Acme Corp", normalized_name="acme corp",
                          type="organization")
    document = upload(workspace, INCIDENT.encode(), "incident.txt", project=project)
    process_document.enqueue(document.pk)
    work()
    document.refresh_from_db()
    found = document.metadata["enrichment"]
    names = {(e["name"], e["type"]) for e in found["entities"]}
    assert {("Alice Chen", "person"), ("Acme Corp", "organization"), ("Berlin", "place"),
            ("12 March 2025", "date")} <= names
    assert found["sentiment"] < 0 and 0 < found["quality"] <= 1
    # The existing entity is reused, the new ones are added to the document's project graph.
    assert Entity.objects.filter(normalized_name="acme corp").count() == 1
    linked = Entity.objects.filter(pk__in=found["entity_ids"])
    assert set(linked.values_list("name", flat=True)) == {"Alice Chen", "Acme Corp", "Berlin"}
    assert set(linked.values_list("project", flat=True)) == {project.pk}


def test_a_document_without_a_project_links_no_entities(work):
    workspace = make_workspace()
    make_project(workspace)
    document = upload(workspace, INCIDENT.encode(), "incident.txt")
    process_document.enqueue(document.pk)
    work()
    document.refresh_from_db()
    assert document.metadata["enrichment"]["entity_ids"] == []
    assert {e["name"] for e in document.metadata["enrichment"]["entities"]} >= {"Alice Chen", "Berlin"}
    assert not Entity.objects.exists()


def test_a_project_of_another_workspace_is_refused():
    other = make_project(make_workspace("other"))
    with pytest.raises(ValueError, match="another workspace"):
        upload(make_workspace(), b"text", "a.txt", project=other)


def test_sentiment_is_positive_for_praise():
    assert enrichment.sentiment(PRAISE) > 0.5 and enrichment.sentiment("The table has four legs.") == 0.0


def test_retraining_from_labels_keeps_before_and_after_metrics_and_classifies_new_documents(work):
    workspace = make_workspace()
    incidents = ["The database backup failed, the disk was full and the outage lasted an hour.",
                 "An incident: the billing service crashed after the deploy and errors spiked.",
                 "Postmortem of the outage: the cache failed and requests timed out."]
    hiring = ["We interviewed three candidates for the senior engineer role this week.",
              "The hiring plan adds two designers and an onboarding buddy for every new hire.",
              "Candidate feedback: strong interview, good culture fit, send an offer."]
    documents = [upload(workspace, text.encode(), f"doc{i}.txt") for i, text in enumerate(incidents + hiring)]
    for document in documents:
        process_document.enqueue(document.pk)
    work()
    for document, label in zip(documents, ["incident"] * 3 + ["hiring"] * 3):
        DocumentLabel.objects.create(document=document, name=label)
    first = retrain_classifier.enqueue(workspace.pk)
    work()
    v1 = DocumentClassifier.objects.get()
    assert v1.version == 1 and v1.metrics["before"]["accuracy"] is None and v1.metrics["after"]["accuracy"] >= 0.8
    assert retrain_classifier.get_result(first.id).return_value["version"] == 1
    assert enrichment.retrain_classifier(workspace).metrics["before"] == {"accuracy": 1.0, "version": 1}
    new = upload(workspace, b"The queue outage: workers crashed and the incident was resolved at noon.", "new.txt")
    process_document.enqueue(new.pk)
    work()
    label = DocumentLabel.objects.get(document=new, source=DocumentLabel.Source.PREDICTED)
    assert label.name == "incident"
    assert Document.objects.get(pk=new.pk).metadata["enrichment"]["label"] == "incident"


def test_retraining_needs_two_labels():
    workspace = make_workspace()
    assert enrichment.retrain_classifier(workspace) is None
