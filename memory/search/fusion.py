"""Fusing the full-text and vector rankings into one score per memory.

Two fusions, compared on the development set of bench/retrieval.py (`--tune` prints the grid):
reciprocal rank fusion, sum of weight / (k + rank), and a weighted sum of scores normalised by
each list's best. Both read every candidate's two signals (memory.search.hybrid scores each text
candidate's similarity and each vector candidate's text rank), so a memory one signal is sure of
keeps that signal's rank instead of counting as absent from the other list.

On the development set (3,840 turns, 400 questions; short turns discounted with 8 words) R@10 /
MRR@10 was: rrf k=20 0.718 / 0.443, rrf k=60 0.710 / 0.468, rrf k=5 0.68 / 0.42, normalised scores
at best 0.677 / 0.476 (text weight 0.4); text weights 0.3 and 0.7 did worse than 0.5. A smaller k
lets a list's first places count for more than its tenth (1/21 against 1/30 rather than 1/61
against 1/70), the strong single-signal hits the constant of Cormack et al. flattens.

Since the questions were split into a tuning and a held-out half (bench/retrieval.py), the grid
runs on the tuning half only: rrf k=20 with equal weights stays the best R@10 there (0.720;
k=1, 5, 10 and 60 0.720 too, with a higher MRR for smaller k; normalised scores at best 0.710,
MRR 0.520).
"""

FUSION = "rrf"
TEXT_WEIGHT = 0.5  # the vector signal weighs 1 - TEXT_WEIGHT
RRF_K = 20


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
