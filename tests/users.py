"""The shared cast: an operator (superuser), a staff viewer, and an outsider."""

from django.contrib.auth.models import Permission, User


def make_operator(username="operator"):
    return User.objects.create_superuser(username, f"{username}@example.com", "pw")


def make_staff(username="staff", perms=()):
    user = User.objects.create_user(username, f"{username}@example.com", "pw", is_staff=True)
    for codename in perms:
        app_label, code = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=code))
    return user


def make_outsider(username="outsider"):
    return User.objects.create_user(username, f"{username}@example.com", "pw")
