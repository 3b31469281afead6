"""Fusing the full-text and vector rankings into one score per memory.

Reciprocal rank fusion with k = 60 (Cormack et al.) flattens what a ranking is sure of: the text
ranking's clear first hit (a name and a rare word matched) gets 1/61, barely more than its 10th
(1/70). Fusing normalised scores keeps that margin: each signal's scores are divided by the best
score of that query's list, so a memory one signal ranks far ahead stays ahead unless the other
signal disagrees strongly. Both fusions are here so the development set can compare them.
"""

FUSION = "scores"
TEXT_WEIGHT = 0.5  # the vector signal weighs 1 - TEXT_WEIGHT
RRF_K = 60


def normalised(scores):
    """{pk: score / best score} (a list of zeros stays zero)."""
    best = max(scores.values(), default=0.0)
    return {pk: (score / best if best > 0 else 0.0) for pk, score in scores.items()}


def fuse_scores(signals, *, method=FUSION, text_weight=TEXT_WEIGHT, k=RRF_K):
    """{pk: fused score} from {"text": {pk: score}, "vector": {pk: score}}, each dict in rank order."""
    weights = {"text": text_weight, "vector": 1.0 - text_weight}
    fused = {}
    for name, scores in signals.items():
        if method == "rrf":
            contributions = {pk: 1.0 / (k + rank) for rank, pk in enumerate(scores, start=1)}
        else:
            contributions = normalised(scores)
        for pk, value in contributions.items():
            fused[pk] = fused.get(pk, 0.0) + weights[name] * value
    return fused
