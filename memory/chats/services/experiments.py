"""Run a classification experiment: load the labelled set, stratified k-fold, measure, record."""

import csv
import time
from collections import Counter

import numpy as np

from ..models import ClassificationExperiment, Message
from .classification import build
from .embedding import provider_for

MAX_CSV_ROWS = 50_000
MAX_TEXT_CHARS = 2_000


class ExperimentError(ValueError):
    """The dataset cannot be used: unreadable, too small, or a single class."""


def load_dataset(experiment):
    """Return (texts, labels) of the experiment's dataset."""
    if experiment.dataset == ClassificationExperiment.Dataset.CSV:
        return read_csv(experiment.dataset_file)
    rows = (Message.objects.filter(chat__workspace_id=experiment.workspace_id, topic__isnull=False)
            .exclude(text="").values_list("text", "topic__name"))
    return [t[:MAX_TEXT_CHARS] for t, _ in rows], [label for _, label in rows]


def read_csv(path):
    """Rows of `text,label` (a header row naming them is optional)."""
    texts, labels = [], []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if number == 1 and [c.strip().lower() for c in row[:2]] == ["text", "label"]:
                    continue
                if len(row) < 2 or not row[0].strip() or not row[1].strip():
                    raise ExperimentError(f"line {number}: expected two non-empty columns text,label")
                if number > MAX_CSV_ROWS:
                    raise ExperimentError(f"more than {MAX_CSV_ROWS:,} rows")
                texts.append(row[0][:MAX_TEXT_CHARS])
                labels.append(row[1].strip())
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"the CSV is not UTF-8: {exc}") from None
    except csv.Error as exc:
        raise ExperimentError(f"unreadable CSV: {exc}") from None
    return texts, labels


def cross_validate(texts, labels, classifier_name, folds=5, vectors=None, on_fold=None, seed=0):
    """Stratified k-fold of one classifier; return the metrics dict."""
    # Imported here: scikit-learn costs every process that loads the tasks seconds at start-up.
    from sklearn.metrics import (  # noqa: PLC0415
        accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support,
    )
    from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

    counts = Counter(labels)
    if len(counts) < 2:
        raise ExperimentError("at least two labels are needed")
    folds = min(folds, min(counts.values()))
    if folds < 2:
        rare = ", ".join(sorted(label for label, n in counts.items() if n < 2))
        raise ExperimentError(f"every label needs at least two examples; too few for: {rare}")
    texts, labels = list(texts), np.asarray(labels)
    if vectors is None:
        vectors = provider_for().embed(texts)
    vectors = np.asarray(vectors, dtype=np.float32)
    predicted = np.empty(len(labels), dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(texts, labels), start=1):
        model = build(classifier_name).fit([texts[i] for i in train], vectors[train], labels[train])
        predicted[test] = model.predict([texts[i] for i in test], vectors[test])
        if on_fold is not None:
            on_fold(fold, folds)
    classes = sorted(counts)
    precision, recall, f1, support = precision_recall_fscore_support(labels, predicted.astype(str), labels=classes,
                                                                     zero_division=0)
    return {
        "samples": len(labels),
        "folds": folds,
        "accuracy": float(accuracy_score(labels, predicted.astype(str))),
        "macro_f1": float(f1_score(labels, predicted.astype(str), average="macro", zero_division=0)),
        "labels": classes,
        "per_class": {c: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
                          "support": int(s)} for c, p, r, f, s in zip(classes, precision, recall, f1, support)},
        "confusion_matrix": confusion_matrix(labels, predicted.astype(str), labels=classes).tolist(),
    }


def run_experiment(experiment, on_fold=None):
    """Measure the experiment's classifier on its dataset and store the result on the row."""
    started = time.perf_counter()
    texts, labels = load_dataset(experiment)
    loaded = time.perf_counter()
    vectors = provider_for().embed(texts) if texts else None
    embedded = time.perf_counter()
    result = cross_validate(texts, labels, experiment.classifier, experiment.folds, vectors, on_fold)
    finished = time.perf_counter()
    timings = {"load_s": round(loaded - started, 3), "embed_s": round(embedded - loaded, 3),
               "cross_validation_s": round(finished - embedded, 3), "total_s": round(finished - started, 3)}
    experiment.mark_completed(samples=result["samples"], folds=result["folds"], accuracy=result["accuracy"],
                              macro_f1=result["macro_f1"], labels=result["labels"], per_class=result["per_class"],
                              confusion_matrix=result["confusion_matrix"], timings=timings)
    return {"accuracy": result["accuracy"], "macro_f1": result["macro_f1"], "samples": result["samples"]}
