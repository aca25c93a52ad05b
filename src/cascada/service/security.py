"""Passwords (argon2), sessions and API tokens (stored hashed), login rate limiting."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.service.models import ApiToken, LoginSession, User

_hasher = PasswordHasher()
MIN_PASSWORD = 8
#: a hash to verify against when the user does not exist (same time either way)
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """SHA-256 of a random token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(db: Session, username: str, password: str) -> User | None:
    user = db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok else None


def new_session(db: Session, user: User, hours: float) -> tuple[str, LoginSession]:
    """A fresh session: returns the cookie value (only its hash is stored) and the row."""
    token = secrets.token_urlsafe(32)
    row = LoginSession(user_id=user.id, token_hash=token_hash(token),
                       csrf_token=secrets.token_urlsafe(24),
                       expires_at=datetime.now(UTC) + timedelta(hours=hours))
    db.add(row)
    db.flush()
    return token, row


def session_user(db: Session, token: str) -> tuple[User, LoginSession] | None:
    row = db.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token)))
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires < datetime.now(UTC):
        db.delete(row)
        return None
    return db.get(User, row.user_id), row


def new_api_token(db: Session, user: User) -> str:
    token = "cas_" + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=token_hash(token)))
    db.flush()
    return token


def token_user(db: Session, token: str) -> User | None:
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    return db.get(User, row.user_id) if row else None


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


class LoginLimiter:
    """Sliding window of failed logins per key (username and client address).

    More than ``attempts`` failures within ``window_s`` seconds block the key
    until the oldest failure leaves the window. In memory: one server process.
    """

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> float:
        """Seconds to wait before trying again (0 when not blocked)."""
        now = time.monotonic()
        with self._lock:
            waits = [self.window_s - (now - f[0]) for f in (self._recent(k, now) for k in keys)
                     if len(f) >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
