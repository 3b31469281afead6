"""Classification experiments: stratified k-fold on labelled messages or a CSV, measured and recorded."""

import csv

import pytest

from jobs import RunStatus
from jobs.models import JobRun
from memory.chats.models import ChatJobStatus, ChatTopic, ClassificationExperiment
from memory.chats.services.experiments import ExperimentError, cross_validate, read_csv
from memory.chats.services.starting import start_experiment
from memory.providers.embeddings import get_embedding_provider
from tests.memory.factories import make_workspace

from .factories import make_chat, make_messages
from .labelled_messages import LABELLED, as_rows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def labelled():
    texts, labels = as_rows()
    return texts, labels, get_embedding_provider().embed(texts)


def test_our_classifier_beats_nearest_centroid_on_embeddings(labelled):
    texts, labels, vectors = labelled

    def mean(name, metric):
        # Three shuffles of the folds: one split of 168 texts moves accuracy by +-2 points.
        return sum(cross_validate(texts, labels, name, 5, vectors, seed=seed)[metric] for seed in range(3)) / 3

    ours, baseline = mean("auto", "accuracy"), mean("centroid", "accuracy")
    ours_f1, baseline_f1 = mean("auto", "macro_f1"), mean("centroid", "macro_f1")
    print(f"\nlabelled set: {len(texts)} messages, {len(LABELLED)} topics, 5-fold x 3 seeds; accuracy auto "
          f"{ours:.3f}, centroid {baseline:.3f}; macro F1 auto {ours_f1:.3f}, centroid {baseline_f1:.3f}")
    assert ours >= baseline + 0.03
    assert ours_f1 >= baseline_f1 + 0.03


def test_the_metrics_are_consistent(labelled):
    texts, labels, vectors = labelled
    result = cross_validate(texts, labels, "embedding_svm", 4, vectors)
    matrix = result["confusion_matrix"]
    assert result["labels"] == sorted(LABELLED) and len(matrix) == len(LABELLED) == len(matrix[0])
    assert sum(map(sum, matrix)) == len(texts) == result["samples"]
    diagonal = sum(matrix[i][i] for i in range(len(matrix)))
    assert result["accuracy"] == pytest.approx(diagonal / len(texts))
    for i, label in enumerate(result["labels"]):
        assert result["per_class"][label]["support"] == sum(matrix[i]) == len(LABELLED[label])
        assert result["per_class"][label]["recall"] == pytest.approx(matrix[i][i] / sum(matrix[i]), abs=1e-4)


def test_folds_shrink_to_the_rarest_label_and_single_examples_are_refused():
    texts = ["a b", "c d", "e f", "g h", "i j"]
    assert cross_validate(texts, ["x", "x", "y", "y", "y"], "centroid", 5, [[1, 0], [1, 0.1], [0, 1], [0.1, 1],
                                                                            [0, 1]])["folds"] == 2
    with pytest.raises(ExperimentError, match="at least two examples; too few for: z"):
        cross_validate(texts, ["x", "x", "y", "y", "z"], "centroid", 5, [[1, 0]] * 5)
    with pytest.raises(ExperimentError, match="two labels"):
        cross_validate(texts, ["x"] * 5, "centroid", 5, [[1, 0]] * 5)


def test_an_experiment_on_labelled_messages_runs_as_a_job(work):
    workspace = make_workspace()
    chat = make_chat(workspace)
    first_id = 1
    for label in ("backups", "hiring", "billing"):
        topic = ChatTopic.objects.create(workspace=workspace, name=label)
        for message in make_messages(chat, LABELLED[label][:8], first_id=first_id):
            message.topic = topic
            message.save(update_fields=["topic"])
        first_id += 100
    experiment = start_experiment(workspace=workspace, name="topics", folds=4)
    work()
    experiment.refresh_from_db()
    assert experiment.status == ChatJobStatus.COMPLETED, experiment.error_message
    assert experiment.samples == 24 and experiment.labels == ["backups", "billing", "hiring"]
    assert experiment.accuracy > 0.6 and set(experiment.timings) >= {"embed_s", "cross_validation_s"}
    run = JobRun.objects.get(task_path="memory.chats.tasks.execute_classification_experiment")
    assert run.status == RunStatus.SUCCEEDED and (run.progress_done, run.progress_total) == (4, 4)


def test_an_uploaded_csv_is_the_dataset_and_a_bad_csv_fails_the_experiment(tmp_path, work):
    workspace = make_workspace()
    good = tmp_path / "good.csv"
    with open(good, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        for label in ("office", "social", "security"):
            writer.writerows([text, label] for text in LABELLED[label])
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nonly one column\n")
    ok = start_experiment(workspace=workspace, name="csv", dataset=ClassificationExperiment.Dataset.CSV,
                          dataset_file=str(good), classifier="stacked_svm", folds=3)
    broken = start_experiment(workspace=workspace, name="bad", dataset=ClassificationExperiment.Dataset.CSV,
                              dataset_file=str(bad))
    work()
    ok.refresh_from_db()
    broken.refresh_from_db()
    assert ok.status == ChatJobStatus.COMPLETED and ok.samples == 42 and ok.folds == 3
    assert broken.status == ChatJobStatus.FAILED and "line 2: expected two non-empty columns" in broken.error_message


def test_read_csv_skips_the_header_only_when_it_names_the_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('text,label\n"hello, world",greeting\nbye,farewell\n')
    assert read_csv(path) == (["hello, world", "bye"], ["greeting", "farewell"])
