"""What keeps `irr serve` safe on a room's network: the coordinator's passphrase (kept only as a
scrypt hash), CSRF tokens on every form, and a limit on guessing (login and join attempts).

>>> stored = hash_passphrase("correct horse battery staple")
>>> stored.startswith("scrypt$"), verify_passphrase("correct horse battery staple", stored)
(True, True)
>>> verify_passphrase("wrong", stored)
False
>>> limiter = AttemptLimiter(max_attempts=2, window_seconds=60)
>>> [limiter.allow("10.0.0.7", now=t) for t in (0, 1, 2, 61)]
[True, True, False, True]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

__all__ = [
    "hash_passphrase",
    "verify_passphrase",
    "new_token",
    "tokens_match",
    "AttemptLimiter",
]

# scrypt cost: n = 2**14, r = 8, p = 1 (RFC 7914's interactive-login parameters)
_N, _R, _P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_passphrase(passphrase: str, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash``: what is kept of the passphrase (the passphrase itself never is)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_passphrase(passphrase: str, stored: str) -> bool:
    """Does ``passphrase`` match the stored hash (constant-time comparison)?"""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    candidate = hashlib.scrypt(
        passphrase.encode("utf-8"), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(_unb64(digest))
    )
    return hmac.compare_digest(candidate, _unb64(digest))


def new_token(nbytes: int = 32) -> str:
    """A random URL-safe token (CSRF tokens, join codes): 32 bytes is 256 bits, beyond guessing."""
    return secrets.token_urlsafe(nbytes)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; False when either is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class AttemptLimiter:
    """At most ``max_attempts`` attempts per key (a client address) in any ``window_seconds``."""

    def __init__(self, max_attempts: int = 10, window_seconds: float = 60.0):
        self.max_attempts = max_attempts
        self.window = window_seconds
        self._seen: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen[key]
            while seen and now - seen[0] >= self.window:
                seen.popleft()
            if len(seen) >= self.max_attempts:
                return False
            seen.append(now)
            return True


async def read_body(request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is larger than ``limit`` bytes (not read further:
    an oversized upload costs the server nothing but the bytes up to the limit)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # request.form() then parses the body read here (Starlette keeps it as _body)
    return body
