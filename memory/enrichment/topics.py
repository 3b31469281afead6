"""A topic tree per project, stored with a materialised path for cheap subtree reads."""

from django.db import models

from memory.core.tenancy import ScopedQuerySet


class TopicQuerySet(ScopedQuerySet):
    def subtree(self, topic):
        """The topic and all its descendants, in one indexed prefix scan."""
        return self.filter(project_id=topic.project_id, path__startswith=topic.path)


class Topic(models.Model):
    workspace = models.ForeignKey("memory.Workspace", on_delete=models.CASCADE, related_name="topics")
    project = models.ForeignKey("memory.Project", on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    # "/root-id/child-id/": a subtree is a prefix, so one LIKE 'prefix%' over a B-tree index.
    path = models.CharField(max_length=1000, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["project", "parent", "name"], name="memory_topic_uniq",
                                    nulls_distinct=False),
        ]
        indexes = [models.Index(fields=["project", "path"], name="memory_topic_path_idx",
                                opclasses=["int8_ops", "varchar_pattern_ops"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.parent_id and self.parent.project_id != self.project_id:
            raise ValueError("a topic's parent must be in the same project")
        super().save(*args, **kwargs)
        path = f"{self.parent.path if self.parent_id else '/'}{self.pk}/"
        depth = self.parent.depth + 1 if self.parent_id else 0
        if (path, depth) != (self.path, self.depth):
            self.path, self.depth = path, depth
            Topic.objects.filter(pk=self.pk).update(path=path, depth=depth)
