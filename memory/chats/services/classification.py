"""Short-text topic classifiers, built fresh for every fold: ours and the nearest-centroid baseline.

A text is read three ways: word uni/bigrams and character 2-5-grams (TF-IDF, sublinear) catch a
class's exact vocabulary, the MiniLM sentence embedding catches paraphrases that share no word.
A linear SVM weighs the stacked features. Which views to stack, and how much weight the embedding
gets, depends on the data: with a dozen examples per class the embedding alone generalises best,
with hundreds the n-grams win. `auto` picks among VIEWS by an inner 3-fold cross-validation on the
training data only (the test fold never takes part).
"""

import numpy as np

# scikit-learn and scipy are imported inside the functions that use them: at module level they
# cost every process that loads the task catalog (web, workers, commands) seconds at start-up.

# (words, chars, embedding weight): the embedding block is unit length times its weight, the
# TF-IDF blocks are unit length each.
VIEWS = {
    "embedding": (False, False, 1.0),
    "words+embedding": (True, False, 2.0),
    "words+chars+embedding": (True, True, 3.0),
    "words+chars": (True, True, 0.0),
}
INNER_FOLDS = 3


def unit_rows(vectors):
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class LinearTextClassifier:
    """fit(texts, vectors, labels) / predict / decision_function over one view of the texts."""

    def __init__(self, view="words+chars+embedding", C=1.0):
        self.view, self.C = view, C

    def features(self, texts, vectors, fit=False):
        from scipy import sparse  # noqa: PLC0415 - see the module comment
        from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415

        words, chars, weight = VIEWS[self.view]
        blocks = []
        if fit:
            self.vectorizers = []
            if words:
                self.vectorizers.append(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
            if chars:
                self.vectorizers.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
            blocks += [v.fit_transform(texts) for v in self.vectorizers]
        else:
            blocks += [v.transform(texts) for v in self.vectorizers]
        if weight:
            blocks.append(sparse.csr_matrix(unit_rows(vectors) * weight))
        return sparse.hstack(blocks).tocsr()

    def fit(self, texts, vectors, labels):
        from sklearn.svm import LinearSVC  # noqa: PLC0415

        self.model = LinearSVC(C=self.C).fit(self.features(texts, vectors, fit=True), labels)
        self.classes_ = self.model.classes_
        return self

    def decision_function(self, texts, vectors):
        return self.model.decision_function(self.features(texts, vectors))

    def predict(self, texts, vectors):
        return self.model.predict(self.features(texts, vectors))


class AutoTextClassifier:
    """The view with the best inner cross-validated accuracy, refitted on all the training data."""

    def __init__(self, views=tuple(VIEWS), seed=0):
        self.views, self.seed = views, seed

    def fit(self, texts, vectors, labels):
        from sklearn.model_selection import StratifiedKFold  # noqa: PLC0415

        labels = np.asarray(labels)
        vectors = np.asarray(vectors, dtype=np.float32)
        self.scores = {}
        _, counts = np.unique(labels, return_counts=True)
        if counts.min() >= INNER_FOLDS:
            splitter = StratifiedKFold(n_splits=INNER_FOLDS, shuffle=True, random_state=self.seed)
            splits = list(splitter.split(texts, labels))
            for view in self.views:
                hits = 0
                for train, test in splits:
                    model = LinearTextClassifier(view).fit([texts[i] for i in train], vectors[train], labels[train])
                    hits += int((model.predict([texts[i] for i in test], vectors[test]) == labels[test]).sum())
                self.scores[view] = hits / len(labels)
            self.view = max(self.views, key=lambda view: self.scores[view])  # ties: the earlier, simpler view
        else:
            self.view = "words+chars+embedding"
        self.model = LinearTextClassifier(self.view).fit(list(texts), vectors, labels)
        self.classes_ = self.model.classes_
        return self

    def predict(self, texts, vectors):
        return self.model.predict(texts, vectors)


class NearestCentroid:
    """The baseline: the class whose mean embedding is closest by cosine."""

    def fit(self, texts, vectors, labels):
        vectors, labels = unit_rows(vectors), np.asarray(labels)
        self.classes_ = np.unique(labels)
        self.centroids = unit_rows(np.stack([vectors[labels == c].mean(axis=0) for c in self.classes_]))
        return self

    def predict(self, texts, vectors):
        similarities = unit_rows(vectors) @ self.centroids.T
        return self.classes_[np.argmax(similarities, axis=1)]


CLASSIFIERS = {
    "auto": AutoTextClassifier,
    "tfidf_svm": lambda: LinearTextClassifier("words+chars"),
    "embedding_svm": lambda: LinearTextClassifier("embedding"),
    "stacked_svm": lambda: LinearTextClassifier("words+chars+embedding"),
    "centroid": NearestCentroid,
}


def build(name):
    return CLASSIFIERS[name]()
