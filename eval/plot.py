"""The report's PNG: headline metrics per system, and policyqa per tag (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from eval.runner import EvalRun

SYSTEM_METRICS = ("hit@1", "hit@5", "mrr", "citation_hit", "citation_precision", "fact_accuracy",
                  "quote_verbatim", "refusal_accuracy")
TAG_METRICS = ("hit@5", "citation_hit", "fact_accuracy", "refusal_accuracy")


def _bars(ax: plt.Axes, groups: list[str], series: dict[str, list[float | None]], title: str) -> None:
    """Grouped bars; a metric that does not apply to a group draws no bar (not a zero)."""
    width = 0.8 / max(len(series), 1)
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ys = [float("nan") if v is None else v for v in values]
        ax.bar(xs, ys, width, label=label)
    ax.set_xticks(range(len(groups)), groups, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def plot(run: EvalRun, path: Path) -> None:
    gold = Path(str(run.meta["gold"])).name
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(13, 9))
    _bars(top, list(SYSTEM_METRICS),
          {s.name: [s.overall.get(m) for m in SYSTEM_METRICS] for s in run.systems},
          f"{gold} ({run.meta['questions']} questions, mode {run.meta['mode']}): metrics per system")
    by_tag = run.policyqa.by_tag
    tags = list(by_tag)
    labels = [f"{t} ({int(by_tag[t]['n'] or 0)})" for t in tags]
    _bars(bottom, labels, {m: [by_tag[t].get(m) for t in tags] for m in TAG_METRICS},
          "policyqa per tag")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
