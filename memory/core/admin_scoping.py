"""One visibility rule for every memory admin: workspace roles decide which rows."""


class WorkspaceScoped:
    """Admin over workspace rows: a user sees and edits only what their memberships allow (superusers all).

    Django's model permissions say what kind of row a staff user may touch; the workspace roles say
    which rows. Changelists, change views, actions, autocomplete and foreign-key choices all go
    through the model's visible_to()/editable_by().
    """

    writers = "editable_by"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _writable(self, request, obj):
        return obj is None or getattr(type(obj).objects, self.writers)(request.user).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._writable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._writable(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if hasattr(db_field.related_model.objects, "editable_by"):
            kwargs["queryset"] = db_field.related_model.objects.editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
