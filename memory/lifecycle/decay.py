"""Memory decay and expiry: strength fades with time per layer, expired rows leave."""

import logging

from django.db import connection, transaction
from django.utils import timezone

from memory.conf import memory_settings
from memory.models import Layer, Memory

logger = logging.getLogger("memory.decay")

# Strength kept per day, by layer: episodic memories fade, reflective ones do not.
DEFAULT_DAILY_RATES = {
    Layer.SENSORY: 0.5,
    Layer.WORKING: 0.8,
    Layer.EPISODIC: 0.97,
    Layer.SEMANTIC: 0.995,
    Layer.REFLECTIVE: 1.0,
}


def daily_rates():
    return {**DEFAULT_DAILY_RATES, **memory_settings.DECAY_RATES}


def apply_decay(now=None, floor=None):
    """Decay every memory to `now` and delete expired ones; return {"decayed": n, "deleted": m}.

    strength <- max(floor, strength * rate ** elapsed_days), with elapsed_days measured from the
    row's strength_updated_at: running it hourly or weekly gives the same strength at a given time.
    """
    now = now or timezone.now()
    floor = memory_settings.DECAY_FLOOR if floor is None else floor
    rates = daily_rates()
    decayed = 0
    with transaction.atomic():
        deleted, _ = Memory.objects.expired(now).delete()
        with connection.cursor() as cursor:
            for layer, rate in rates.items():
                if rate >= 1.0:
                    continue
                # One set-based UPDATE per layer; the floor keeps a memory findable forever.
                # A memory already at or below the floor keeps its strength (never raised).
                cursor.execute(
                    f"UPDATE {Memory._meta.db_table} SET strength = CASE WHEN strength <= %s THEN strength "
                    "ELSE GREATEST(%s, strength * POWER(%s, EXTRACT(EPOCH FROM (%s - strength_updated_at)) "
                    "/ 86400.0)) END, strength_updated_at = %s WHERE layer = %s AND strength_updated_at < %s",
                    [floor, floor, rate, now, now, layer, now],
                )
                decayed += cursor.rowcount
    logger.info("decay: %d memories decayed, %d expired memories deleted", decayed, deleted)
    return {"decayed": decayed, "deleted": deleted}
