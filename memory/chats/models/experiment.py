"""Topic classification experiments: a dataset, a classifier, stratified k-fold, and the measured result."""

from django.conf import settings
from django.db import models

from memory.core.tenancy import ScopedQuerySet

from .status import JobStateMixin


class ClassificationExperiment(JobStateMixin):
    class Dataset(models.TextChoices):
        MESSAGES = "messages", "Labelled messages (their topics)"
        CSV = "csv", "Uploaded CSV (text,label)"

    class Classifier(models.TextChoices):
        AUTO = "auto", "Linear SVM, views picked by inner cross-validation (default)"
        STACKED_SVM = "stacked_svm", "Linear SVM on TF-IDF words+chars and embeddings"
        TFIDF_SVM = "tfidf_svm", "Linear SVM on TF-IDF words+chars"
        EMBEDDING_SVM = "embedding_svm", "Linear SVM on embeddings"
        CENTROID = "centroid", "Nearest centroid on embeddings (baseline)"

    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=200)
    dataset = models.CharField(max_length=10, choices=Dataset.choices, default=Dataset.MESSAGES)
    dataset_file = models.CharField(max_length=500, blank=True, help_text="Path of the uploaded CSV.")
    classifier = models.CharField(max_length=20, choices=Classifier.choices,
                                  default=Classifier.AUTO)
    folds = models.PositiveSmallIntegerField(default=5)
    samples = models.PositiveIntegerField(default=0)
    accuracy = models.FloatField(null=True, blank=True)
    macro_f1 = models.FloatField(null=True, blank=True)
    labels = models.JSONField(default=list, blank=True)
    per_class = models.JSONField(default=dict, blank=True, help_text="label -> precision, recall, f1, support")
    confusion_matrix = models.JSONField(default=list, blank=True, help_text="rows: true label, columns: predicted")
    timings = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name
