"""Seeded randomness: one independent stream per purpose, never the global RNG or the wall clock."""

from __future__ import annotations

import hashlib
import random
import uuid

_SF_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stream(seed: int, *parts: object) -> random.Random:
    """A random stream derived from the seed and a purpose, e.g. ("hour", "2026-11-01T03")."""
    label = "|".join([str(seed), *(str(p) for p in parts)])
    digest = hashlib.sha256(label.encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID drawn from the stream."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def draw_count(rng: random.Random, mean: float) -> int:
    """An integer with the given mean: the integer part plus one with the fractional chance."""
    whole = int(mean)
    return whole + (1 if rng.random() < mean - whole else 0)


def salesforce_id(key_prefix: str, number: int) -> str:
    """An 18-character Salesforce id: 3-char key prefix, 12 base-62 chars, 3 checksum chars."""
    if len(key_prefix) != 3:
        raise ValueError(f"Salesforce key prefix must have 3 characters, got {key_prefix!r}")
    body = ""
    n = number
    for _ in range(10):
        body = _BASE62[n % 62] + body
        n //= 62
    if n:
        raise ValueError(f"id number {number} does not fit in 10 base-62 digits")
    short = key_prefix + "8d" + body
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(short[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _SF_CHECKSUM_ALPHABET[bits]
    return short + suffix
