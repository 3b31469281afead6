"""Admin for history that must not be edited: viewable, never added, changed or deleted."""


class ReadOnlyAdminMixin:
    # `obj`: inlines are asked with the parent object; model admins without it.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
