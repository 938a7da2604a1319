"""The project's one percentile (latency p50/p95 in eval reports, the bench, load tests and the 管理 dashboard).

Linear interpolation between closest ranks (numpy's default), q in 0..100. Kept in index/, the layer
every package may import, so ui/ need not import eval/.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linearly interpolated percentile, q in 0..100 (numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * min(max(q, 0.0), 100.0) / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
