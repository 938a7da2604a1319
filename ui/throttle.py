"""Failed admin logins are throttled per client address and globally; the right password is never kept out long.

Per address: the first `FREE_FAILURES` wrong passwords are checked at once; after that each attempt
must wait `2**(n - FREE_FAILURES)` seconds (at most `MAX_DELAY`) after the previous failure, and an
attempt that comes earlier is refused (HTTP 429 / a "try again in N s" message) without being checked.
Failures are forgotten after `WINDOW` seconds and on a successful login from that address.

Globally: at most `GLOBAL_BURST` failures, refilled at `GLOBAL_RATE` per second, across all
addresses. While that budget is spent, an address that has already failed is refused; an address
with no failures is still checked, so the officer at their own desk logs in at once while a brute
force runs elsewhere, and a guesser spreading over many addresses gets one guess per address.
Only `MAX_ADDRESSES` addresses are remembered (least recently seen forgotten first); IPv6 addresses
count per /64 network.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

FREE_FAILURES = 5
MAX_DELAY = 60.0
WINDOW = 15 * 60.0
GLOBAL_BURST = 30
GLOBAL_RATE = 0.5  # failures per second, all addresses together
MAX_ADDRESSES = 10_000
# A refused attempt is answered after this long, awaited (never in a worker): a guesser's loop slows to
# one try per connection every two seconds, and the server's work for it with it, so a flood cannot crowd
# out the officer's own login (2-4 s under ten looping guessers on two cores without a delay; with 1 s it
# was 0.9 s alone but 3.3 s once in the full suite, so the guessers get half that rate again).
REFUSAL_DELAY = 2.0


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)


def client_key(host: str | None) -> str:
    """The address a failure counts against (IPv6 by /64, so one host can't rotate through its subnet)."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginThrottle:
    """Thread-safe bookkeeping of failed logins; `wait(addr)` says how long an address must still wait."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._tokens = float(GLOBAL_BURST)
        self._refilled = clock()

    def _refill(self, now: float) -> None:
        self._tokens = min(GLOBAL_BURST, self._tokens + (now - self._refilled) * GLOBAL_RATE)
        self._refilled = now

    def _record(self, key: str, now: float) -> _Record:
        record = self._records.get(key) or _Record()
        record.failures = [t for t in record.failures if now - t < WINDOW]
        self._records[key] = record
        self._records.move_to_end(key)
        while len(self._records) > MAX_ADDRESSES:
            self._records.popitem(last=False)
        return record

    def wait(self, host: str | None) -> float:
        """Seconds before this address may try again (0: check the password now)."""
        now = self.clock()
        with self._lock:
            self._refill(now)
            record = self._record(client_key(host), now)
            n = len(record.failures)
            if n == 0:
                return 0.0
            if n >= FREE_FAILURES:
                delay = min(MAX_DELAY, 2.0 ** (n - FREE_FAILURES))
                left = record.failures[-1] + delay - now
                if left > 0:
                    return left
            if self._tokens < 1:
                return (1 - self._tokens) / GLOBAL_RATE
            return 0.0

    def failed(self, host: str | None) -> None:
        now = self.clock()
        with self._lock:
            self._refill(now)
            self._tokens = max(0.0, self._tokens - 1)
            record = self._record(client_key(host), now)
            record.failures = [*record.failures[-63:], now]

    def succeeded(self, host: str | None) -> None:
        with self._lock:
            self._records.pop(client_key(host), None)


def retry_after(seconds: float) -> int:
    """Whole seconds for a Retry-After header (at least 1)."""
    return max(1, math.ceil(seconds))
