"""API tokens: a user's named bearer secrets, stored only as their SHA-256 digest."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name):
        """Create a token for `user` and return its plain secret (the only time it is known)."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        cls.objects.create(user=user, name=name, prefix=secret[:len(SECRET_PREFIX) + 4], key=digest(secret))
        return secret

    @classmethod
    def authenticate(cls, secret):
        """Return the active user's token whose digest matches `secret`, or None."""
        # A lookup by digest leaks no timing about the secret itself: equal digests need the secret.
        return cls.objects.select_related("user").filter(key=digest(secret), user__is_active=True).first()

    def touch(self, now=None):
        """Record a use, unless one was recorded within the last minute."""
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= TOUCH_INTERVAL:
            self.last_used_at = now
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
