"""Plain factory functions for the memory domain."""

from memory.models import Memory, Membership, Project, Workspace


def make_workspace(slug="acme", member=None):
    workspace = Workspace.objects.create(name=slug.title(), slug=slug)
    if member is not None:
        Membership.objects.create(workspace=workspace, user=member)
    return workspace


def make_project(workspace, slug="main"):
    return Project.objects.create(workspace=workspace, name=slug.title(), slug=slug)


def make_memory(project, content, **fields):
    return Memory.objects.create(workspace=project.workspace, project=project, content=content, **fields)
