"""Run ids: UUIDv7 (RFC 9562), random but ordered by creation time."""

import os
import time
import uuid

_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)
_RAND_B = (1 << 62) - 1  # 62 random bits after the variant


def new_run_id():
    """A UUIDv7: 48 bits of Unix milliseconds, then 74 random bits.

    A random (v4) key sends every INSERT to a random leaf of the primary key: after each
    checkpoint, the first change to a page writes the whole 8 kB page to the WAL, so a single
    enqueue wrote ~2.4 kB of WAL at 100k runs. New v7 keys share the index's rightmost leaves
    (~1.0 kB). 74 random bits keep an id as unguessable as it needs to be (permissions guard runs).
    """
    rand = int.from_bytes(os.urandom(10))  # 80 bits: 12 go after the version, 62 after the variant
    rand_a, rand_b = (rand >> 62) & 0xFFF, rand & _RAND_B
    value = (time.time_ns() // 1_000_000) << 80 | _VERSION_AND_VARIANT | rand_a << 64 | rand_b
    return uuid.UUID(int=value)
