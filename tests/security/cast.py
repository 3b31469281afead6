"""Two workspaces and the seven kinds of user the security tests try every surface as."""

from django.contrib.auth.models import Permission, User

from memory.models import Decision, Entity, Membership, Memory, Relation, Session, Topic
from tests.memory.factories import make_memory, make_project, make_workspace

ROLES = ["anonymous", "member_a", "viewer_a", "member_b", "staff_no_perms", "staff_perms_a", "superuser"]

# What the operator of workspace A is given in Django: read and change the memory domain, read runs.
STAFF_PERMISSIONS = [
    ("memory", "view_memory"), ("memory", "change_memory"), ("memory", "view_project"), ("memory", "view_workspace"),
    ("memory", "view_topic"), ("memory", "view_entity"), ("memory", "view_relation"), ("memory", "view_decision"),
    ("memory", "view_session"), ("jobs", "view_jobrun"), ("jobs", "view_schedule"),
]


def _user(name, **flags):
    return User.objects.create_user(name, f"{name}@example.com", "pw", **flags)


def build_cast():
    """Return (users by role, rows of workspace A by name)."""
    users = {
        "member_a": _user("member_a"),
        "viewer_a": _user("viewer_a"),
        "member_b": _user("member_b"),
        "staff_no_perms": _user("staff_no_perms", is_staff=True),
        "staff_perms_a": _user("staff_perms_a", is_staff=True),
        "superuser": User.objects.create_superuser("root", "root@example.com", "pw"),
    }
    for app_label, codename in STAFF_PERMISSIONS:
        users["staff_perms_a"].user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename))
    a, b = make_workspace("acme"), make_workspace("globex")
    Membership.objects.create(workspace=a, user=users["member_a"], role=Membership.Role.MEMBER)
    Membership.objects.create(workspace=a, user=users["viewer_a"], role=Membership.Role.VIEWER)
    Membership.objects.create(workspace=a, user=users["staff_perms_a"], role=Membership.Role.MEMBER)
    Membership.objects.create(workspace=b, user=users["member_b"], role=Membership.Role.MEMBER)
    project = make_project(a)
    memory = make_memory(project, "acme's launch is on Friday")
    topic = Topic.objects.create(workspace=a, project=project, name="launch")
    subject = Entity.objects.create(workspace=a, project=project, name="Acme", normalized_name="acme")
    target = Entity.objects.create(workspace=a, project=project, name="Friday", normalized_name="friday")
    relation = Relation.objects.create(workspace=a, project=project, subject=subject, object=target,
                                       predicate="launches on")
    decision = Decision.objects.create(workspace=a, project=project, title="Ship on Friday")
    session = Session.objects.create(workspace=a, project=project, user=users["member_a"])
    rows = {"workspace": a, "project": project, "memory": memory, "topic": topic, "entity": subject,
            "relation": relation, "decision": decision, "session": session,
            "foreign": make_memory(make_project(b), "globex's secret")}
    return users, rows


def workspace_a_texts():
    return list(Memory.objects.filter(workspace__slug="acme").values_list("content", flat=True))
