"""The admin password check: `POLICYQA_ADMIN_PASSWORD` holds the password or `sha256:<hex>` of it.

A hashed value lets the office keep the plain password out of environment files; comparison is
constant-time either way.
"""

from __future__ import annotations

import hashlib
import hmac

from pydantic import SecretStr

PREFIX = "sha256:"


def hash_password(password: str) -> str:
    """The value to put in POLICYQA_ADMIN_PASSWORD instead of the plain password."""
    return PREFIX + hashlib.sha256(password.encode("utf-8")).hexdigest()


def admin_enabled(secret: SecretStr | None) -> bool:
    """Without a configured password the admin tab does not exist at all."""
    return secret is not None and bool(secret.get_secret_value().strip())


def check_password(secret: SecretStr | None, attempt: str | None) -> bool:
    """True when `attempt` matches the configured plain or sha256-hashed password."""
    if not admin_enabled(secret) or not attempt:
        return False
    assert secret is not None
    stored = secret.get_secret_value().strip()
    if stored.lower().startswith(PREFIX):
        wanted = stored[len(PREFIX):].strip().lower()
        given = hashlib.sha256(attempt.encode("utf-8")).hexdigest()
        return hmac.compare_digest(given.encode("ascii"), wanted.encode("ascii", "replace"))
    return hmac.compare_digest(attempt.encode("utf-8"), stored.encode("utf-8"))
