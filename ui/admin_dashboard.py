"""管理 → 统计: charts of the question log for a date range, and the numbers behind them as a CSV.

Questions per day, refusal rate per day, 👍/👎 per day, latency p50/p95 per day, the most cited
clauses and the most frequent refused questions (ui/dashboard.py computes them). The CSV is made when
the button is pressed, held in memory and downloaded once (ui/exports.py), for a logged-in session only.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from ui.assets import DOWNLOAD_JS
from ui.browse import download_link
from ui.dashboard import Figures, figures, figures_csv, parse_range
from ui.exports import Exports
from ui.feedback import FeedbackDB
from ui.format import esc
from ui.i18n import Translator, t

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
REFUSED_HEADERS = ["被拒答的问题", "次数"]


def summary_html(f: Figures) -> str:
    total = f.total
    rate = "—" if total.refusal_rate is None else f"{total.refusal_rate:.1%}"
    p50 = "—" if total.p50_ms is None else f"{total.p50_ms:.0f} ms"
    p95 = "—" if total.p95_ms is None else f"{total.p95_ms:.0f} ms"
    cells = [("日期 range", f"{f.start.isoformat()} … {f.end.isoformat()}"), ("问题 questions", total.questions),
             ("拒答 refused", f"{total.refused} ({rate})"), ("赞 up", total.up), ("踩 down", total.down),
             ("延迟 latency p50", p50), ("p95", p95)]
    items = "".join(f'<div class="pqa-dash-cell"><div class="pqa-dash-k">{esc(k)}</div>'
                    f'<div class="pqa-dash-v">{esc(v)}</div></div>' for k, v in cells)
    return f'<div class="pqa-dash-summary">{items}</div>'


def frames(f: Figures) -> tuple[pd.DataFrame, ...]:
    """One DataFrame per chart (native Gradio plots draw them in the browser, offline); days as MM-DD."""
    days = [d.day[5:] for d in f.days]
    asked = [d for d in f.days if d.questions]
    volume = pd.DataFrame({"日期": days, "问题数": [d.questions for d in f.days]})
    refusal = pd.DataFrame({"日期": [d.day[5:] for d in asked],
                            "拒答率 %": [round(100 * (d.refusal_rate or 0.0), 1) for d in asked]})
    ratings = pd.DataFrame({"日期": days * 2, "次数": [d.up for d in f.days] + [d.down for d in f.days],
                            "评价": ["赞"] * len(days) + ["踩"] * len(days)})
    latency = pd.DataFrame({"日期": [d.day[5:] for d in asked] * 2,
                            "毫秒": [round(d.p50_ms or 0.0, 1) for d in asked]
                            + [round(d.p95_ms or 0.0, 1) for d in asked],
                            "指标": ["p50"] * len(asked) + ["p95"] * len(asked)})
    clauses = pd.DataFrame({"条款": [k for k, _ in f.top_clauses], "引用次数": [n for _, n in f.top_clauses]})
    return volume, refusal, ratings, latency, clauses


class Dashboard:
    def __init__(self, db: FeedbackDB, exports: Exports) -> None:
        self.db, self.exports = db, exports

    def _figures(self, authed: Any, start: Any, end: Any) -> Figures:
        if authed is not True:
            raise gr.Error("请先登录 / please log in")
        try:
            first, last = parse_range(start, end)
        except ValueError as exc:
            raise gr.Error(f"{t('zh', 'dash_bad_range')} / {t('en', 'dash_bad_range')} ({esc(exc)})") from exc
        return figures(self.db, first, last)

    def show(self, authed: Any, start: Any, end: Any) -> tuple[Any, ...]:
        """The figures of the range (the last 30 days when empty), and the range shown in the date boxes."""
        f = self._figures(authed, start, end)
        refused = [[q, n] for q, n in f.top_refused]
        return (summary_html(f), *frames(f), refused, f.start.isoformat(), f.end.isoformat())

    def export(self, authed: Any, start: Any, end: Any) -> str:
        f = self._figures(authed, start, end)
        return self.exports.issue(f"dashboard-{f.start.isoformat()}-{f.end.isoformat()}.csv", figures_csv(f))


def build_dashboard(db: FeedbackDB, exports: Exports, tr: Translator, authed: gr.State) -> tuple[Any, list[Any],
                                                                                                    list[Any]]:
    """Returns (handler, inputs, outputs) so the tab can load the last 30 days when it opens."""
    h = Dashboard(db, exports)
    with gr.Row():
        start = tr.add(gr.DateTime(None, include_time=False, type="string", label=t("zh", "dash_from"),
                                   elem_id="pqa-dash-from"), label="dash_from")
        end = tr.add(gr.DateTime(None, include_time=False, type="string", label=t("zh", "dash_to"),
                                 elem_id="pqa-dash-to"), label="dash_to")
        run = tr.add(gr.Button(t("zh", "dash_run"), variant="primary", scale=0, min_width=100, elem_id="pqa-dash-run"),
                     value="dash_run")
        csv, link = download_link(tr, "dash_export", "pqa-dash-export", scale=0, min_width=120)
    summary = gr.HTML("", js_on_load=None, elem_id="pqa-dash-summary")
    with gr.Row():
        volume = gr.BarPlot(None, x="日期", y="问题数", title="每日问题数", height=240, x_label_angle=-45,
                            y_lim=[0, None], elem_id="pqa-dash-volume")
        refusal = gr.BarPlot(None, x="日期", y="拒答率 %", title="每日拒答率 (%)", height=240, y_lim=[0, 100],
                             x_label_angle=-45, elem_id="pqa-dash-refusal")
    with gr.Row():
        ratings = gr.BarPlot(None, x="日期", y="次数", color="评价", title="每日 赞 / 踩", height=240,
                             x_label_angle=-45, y_lim=[0, None], color_map={"赞": "#2e86c1", "踩": "#c0392b"},
                             elem_id="pqa-dash-ratings")
        latency = gr.ScatterPlot(None, x="日期", y="毫秒", color="指标", title="每日延迟 p50 / p95 (ms)", height=240,
                                 x_label_angle=-45, y_lim=[0, None], color_map={"p50": "#2e86c1", "p95": "#e67e22"},
                                 elem_id="pqa-dash-latency")
    with gr.Row():
        clauses = gr.BarPlot(None, x="条款", y="引用次数", title="引用最多的条款", height=260, sort="-y",
                             x_label_angle=-30, y_lim=[0, None], elem_id="pqa-dash-clauses")
        refused = gr.Dataframe(headers=REFUSED_HEADERS, value=[], type="array", interactive=False, wrap=True,
                               max_height=260, column_widths=["85%", "15%"], label="最常被拒答的问题",
                               elem_id="pqa-dash-refused")
    inputs = [authed, start, end]
    outputs = [summary, volume, refusal, ratings, latency, clauses, refused, start, end]
    gr.on([run.click], h.show, inputs, outputs, **PRIVATE)
    csv.click(h.export, inputs, [link], **PRIVATE).then(None, [link], None, js=DOWNLOAD_JS, **PRIVATE)
    return h.show, inputs, outputs
