"""The admin password: `POLICYQA_ADMIN_PASSWORD` holds the password or `sha256:<hex>` of it.

A hashed value lets the office keep the plain password out of environment files; comparison is
constant-time either way. Every login (the 管理 tab and the `X-Admin-Password` header) goes through
`AdminAuth`, which throttles failures (ui/throttle.py). HTTP header values are Latin-1, so a
non-ASCII password is sent in the header percent-encoded as UTF-8 (`urllib.parse.quote(password)`);
raw UTF-8 bytes are understood too.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import unquote

from pydantic import SecretStr

from ui.throttle import LoginThrottle

PREFIX = "sha256:"
MAX_ATTEMPT_CHARS = 1024
SESSION_TTL = 2 * 3600.0  # an admin browser session (the upload hook's cookie) lasts at most this long
_HEX64 = re.compile(r"[0-9a-f]{64}")


def hash_password(password: str) -> str:
    """The value to put in POLICYQA_ADMIN_PASSWORD instead of the plain password."""
    return PREFIX + hashlib.sha256(password.encode("utf-8")).hexdigest()


def admin_enabled(secret: SecretStr | None) -> bool:
    """Without a configured password the admin tab does not exist at all."""
    return secret is not None and bool(secret.get_secret_value().strip())


def validate_secret(secret: SecretStr | None) -> None:
    """Refuse (at startup) a configured value that no login could ever match."""
    if not admin_enabled(secret):
        return
    assert secret is not None
    stored = secret.get_secret_value().strip()
    if stored.lower().startswith(PREFIX) and not _HEX64.fullmatch(stored[len(PREFIX):].strip().lower()):
        raise ValueError("POLICYQA_ADMIN_PASSWORD starts with 'sha256:' but is not followed by 64 hex digits; "
                         "use `python -c \"from ui.auth import hash_password; print(hash_password('…'))\"`")


def check_password(secret: SecretStr | None, attempt: str | None) -> bool:
    """True when `attempt` matches the configured plain or sha256-hashed password."""
    if not admin_enabled(secret) or not attempt or len(attempt) > MAX_ATTEMPT_CHARS:
        return False
    assert secret is not None
    stored = secret.get_secret_value().strip()
    if stored.lower().startswith(PREFIX):
        wanted = stored[len(PREFIX):].strip().lower()
        given = hashlib.sha256(attempt.encode("utf-8", "surrogatepass")).hexdigest()
        return hmac.compare_digest(given.encode("ascii"), wanted.encode("ascii", "replace"))
    return hmac.compare_digest(attempt.encode("utf-8", "surrogatepass"), stored.encode("utf-8"))


def header_candidates(value: str | None) -> list[str]:
    """What an `X-Admin-Password` header may mean: as sent, percent-decoded UTF-8, raw UTF-8 bytes."""
    if not value:
        return []
    found = [value]
    if "%" in value:
        with contextlib.suppress(UnicodeDecodeError):
            found.append(unquote(value, encoding="utf-8", errors="strict"))
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        found.append(value.encode("latin-1").decode("utf-8"))
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    wait: float = 0.0  # > 0: throttled, not checked; retry after this many seconds


class AdminAuth:
    """One login decision for the tab and the REST header: throttle first, then a constant-time check."""

    def __init__(self, secret: SecretStr | None, throttle: LoginThrottle | None = None) -> None:
        validate_secret(secret)
        self.secret = secret
        self.throttle = throttle or LoginThrottle()
        self._sessions: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return admin_enabled(self.secret)

    def attempt(self, host: str | None, candidates: list[str]) -> Verdict:
        """Check one login attempt from `host` (any of `candidates` may match)."""
        wait = self.throttle.wait(host)
        if wait > 0:
            return Verdict(False, wait)
        ok = False
        for candidate in candidates[:3]:
            ok |= check_password(self.secret, candidate)  # no short-circuit: same work either way
        if ok:
            self.throttle.succeeded(host)
        else:
            self.throttle.failed(host)
        return Verdict(ok)

    def open_session(self) -> str:
        """A random token for a logged-in admin browser (the upload hook's cookie)."""
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._sessions = {t: exp for t, exp in self._sessions.items() if exp > now}
            self._sessions[token] = now + SESSION_TTL
        return token

    def session_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expires = self._sessions.get(token)
        return expires is not None and expires > time.monotonic()

    def close_session(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)
