"""Short-text topic classifiers, built fresh for every fold: ours and the nearest-centroid baseline.

The default stacks three views of a text: word uni/bigrams and character 2-5-grams (TF-IDF,
sublinear) catch the exact vocabulary of a class, the MiniLM sentence embedding catches
paraphrases that share no word; a multinomial logistic regression weighs them. Its probabilities
are calibrated enough to threshold (analysis runs use them as confidences).
"""

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

# Weight of the dense embedding block against the two unit-length TF-IDF blocks.
EMBEDDING_WEIGHT = 1.5


class TextClassifier:
    """fit(texts, vectors, labels) / predict(texts, vectors) / predict_proba(texts, vectors)."""

    def __init__(self, use_words=True, use_embeddings=True, C=20.0):
        self.use_words, self.use_embeddings, self.C = use_words, use_embeddings, C

    def _features(self, texts, vectors, fit):
        blocks = []
        if self.use_words:
            if fit:
                self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True)
                self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1)
                blocks += [self.words.fit_transform(texts), self.chars.fit_transform(texts)]
            else:
                blocks += [self.words.transform(texts), self.chars.transform(texts)]
        if self.use_embeddings:
            blocks.append(sparse.csr_matrix(normalize(np.asarray(vectors, dtype=np.float32)) * EMBEDDING_WEIGHT))
        return sparse.hstack(blocks).tocsr()

    def fit(self, texts, vectors, labels):
        self.model = LogisticRegression(C=self.C, max_iter=2000)
        self.model.fit(self._features(texts, vectors, fit=True), labels)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, texts, vectors):
        return self.model.predict_proba(self._features(texts, vectors, fit=False))

    def predict(self, texts, vectors):
        return self.classes_[np.argmax(self.predict_proba(texts, vectors), axis=1)]


class NearestCentroid:
    """The baseline: the class whose mean embedding is closest by cosine."""

    def fit(self, texts, vectors, labels):
        vectors, labels = normalize(np.asarray(vectors, dtype=np.float32)), np.asarray(labels)
        self.classes_ = np.unique(labels)
        self.centroids = normalize(np.stack([vectors[labels == c].mean(axis=0) for c in self.classes_]))
        return self

    def predict(self, texts, vectors):
        similarities = normalize(np.asarray(vectors, dtype=np.float32)) @ self.centroids.T
        return self.classes_[np.argmax(similarities, axis=1)]


def build(name):
    from ..models import ClassificationExperiment as E  # noqa: PLC0415 - models import this module's callers

    if name == E.Classifier.CENTROID:
        return NearestCentroid()
    if name == E.Classifier.TFIDF_LOGREG:
        return TextClassifier(use_embeddings=False)
    return TextClassifier()
