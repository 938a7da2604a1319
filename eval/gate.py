"""The CI regression gate: policyqa's headline metrics against the floors in eval/thresholds.toml."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.runner import EvalRun

DEFAULT_THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"


class ThresholdsError(ValueError):
    """thresholds.toml is missing or malformed."""


@dataclass(frozen=True)
class Thresholds:
    """`floors` must be reached (higher is better); `ceilings` must not be exceeded."""

    floors: dict[str, float]
    ceilings: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"
    k: int = 5


def _numbers(data: dict[str, Any], table: str, path: Path) -> dict[str, float]:
    values = data.get(table, {})
    if not isinstance(values, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
    ):
        raise ThresholdsError(f"{path}: [{table}] must map metric names to numbers")
    return {str(k): float(v) for k, v in values.items()}


def load_thresholds(path: Path = DEFAULT_THRESHOLDS) -> Thresholds:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdsError(f"{path}: cannot read thresholds: {exc}") from exc
    context = data.get("context", {})
    return Thresholds(_numbers(data, "floors", path), _numbers(data, "ceilings", path),
                      mode=str(context.get("mode", "extractive")), k=int(context.get("k", 5)))


def check(run: EvalRun, thresholds: Thresholds) -> list[str]:
    """One line per violated threshold (empty when the gate passes)."""
    if (run.meta["mode"], run.meta["k"]) != (thresholds.mode, thresholds.k):
        return [f"thresholds are for mode={thresholds.mode}, k={thresholds.k}; this run used "
                f"mode={run.meta['mode']}, k={run.meta['k']}"]
    overall = run.policyqa.overall
    problems = []
    for name, floor in thresholds.floors.items():
        value = overall.get(name)
        if value is None or value < floor:
            problems.append(f"{name} = {_show(value)} is below its floor {floor:.3f}")
    for name, ceiling in thresholds.ceilings.items():
        value = overall.get(name)
        if value is None or value > ceiling:
            problems.append(f"{name} = {_show(value)} is above its ceiling {ceiling:.3f}")
    return problems


def _show(value: float | None) -> str:
    return "not computed" if value is None else f"{value:.3f}"


def suggest(run: EvalRun, thresholds: Thresholds, margin: float = 0.025) -> str:
    """TOML for floors `margin` below (ceilings above) this run, for metrics the file gates.

    Only for raising the floors after an improvement: paste the lines that go UP.
    """
    overall = run.policyqa.overall
    lines = ["[floors]"]
    for name in thresholds.floors:
        value = overall.get(name)
        if value is not None:
            floor = 1.0 if value == 1.0 and name == "quote_verbatim" else value - margin
            lines.append(f'"{name}" = {math.floor(round(floor * 100, 6)) / 100:.2f}  # achieved {value:.3f}')
    lines.append("\n[ceilings]")
    for name in thresholds.ceilings:
        value = overall.get(name)
        if value is not None:
            lines.append(f'"{name}" = {math.ceil(round((value + margin) * 100, 6)) / 100:.2f}  # achieved {value:.3f}')
    return "\n".join(lines)
