"""API tokens: a user's named bearer secrets, stored only as their SHA-256 digest.

A token is scoped to one workspace and a role no higher than its user's there, expires, and can be
revoked; an expired or revoked token authenticates nobody (401).
"""

import copy
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from .tenancy import Membership

SECRET_PREFIX = "eng_"
# last_used_at is advisory; refreshing it at most once a minute spares a write on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def digest(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The secret's first characters, so a user can tell their tokens apart; not enough to guess it.
    prefix = models.CharField(max_length=12, editable=False)
    key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Null on tokens issued before scopes existed: those act in all of the user's workspaces.
    workspace = models.ForeignKey("memory.Workspace", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="api_tokens")
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.VIEWER)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name, workspace=None, role=Membership.Role.OWNER, days=None):
        """Create a token for `user` and return its plain secret (the only time it is known).

        It acts in `workspace` (all of the user's when None) with at most `role` (owner: no cap beyond
        the user's own roles), and expires after `days` (MEMORY_API_TOKEN_DAYS by default; 0 never).
        """
        days = settings.MEMORY_API_TOKEN_DAYS if days is None else days
        if role not in Membership.Role.values:
            raise ValueError(f"unknown role {role!r}; choose one of {', '.join(Membership.Role.values)}")
        if days < 0 or days > 3650:
            raise ValueError("days must lie between 0 and 3650")
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        cls.objects.create(user=user, name=name, prefix=secret[:len(SECRET_PREFIX) + 4], key=digest(secret),
                           workspace=workspace, role=role,
                           expires_at=timezone.now() + timedelta(days=days) if days else None)
        return secret

    @classmethod
    def authenticate(cls, secret, now=None):
        """Return the active user's live (unexpired, unrevoked) token whose digest matches `secret`, or None."""
        now = now or timezone.now()
        # A lookup by digest leaks no timing about the secret itself: equal digests need the secret.
        return (cls.objects.select_related("user")
                .filter(key=digest(secret), user__is_active=True, revoked_at__isnull=True)
                .filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)).first())

    def revoke(self, now=None):
        """Revoke the token; it authenticates nobody from now on."""
        if self.revoked_at is None:
            self.revoked_at = now or timezone.now()
            self.save(update_fields=["revoked_at"])

    def scoped_user(self):
        """The token's user, narrowed to the token's workspace and role (read by ScopedQuerySet)."""
        # A copy: the scope belongs to this request, never to the cached user row.
        user = copy.copy(self.user)
        user.token_scope = (self.workspace_id, self.role)
        return user

    def touch(self, now=None):
        """Record a use, unless one was recorded within the last minute."""
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= TOUCH_INTERVAL:
            self.last_used_at = now
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
