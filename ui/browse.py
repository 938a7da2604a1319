"""The 条文查阅 tab: clause tree, jump by number, keyword search, and the targets table with CSV export."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from index.models import Chunk
from index.settings import Settings
from rag.chain import Assistant
from ui.clauses import ClauseBrowser
from ui.i18n import STRINGS, Translator, t

TARGET_HEADERS = ["指标", "数值", "年份", "条款"]


@dataclass
class BrowseParts:
    browser: ClauseBrowser
    inner_tabs: gr.Tabs
    detail: gr.HTML


def export_file(name: str, text: str) -> str:
    """A CSV written for download (utf-8 with BOM so Excel shows Chinese); Gradio copies it to its cache."""
    path = Path(tempfile.mkdtemp(prefix="policyqa-")) / name
    path.write_text(text, encoding="utf-8-sig")
    return str(path)


def target_rows(chunks: list[Chunk], primary_doc: str) -> tuple[list[list[Any]], str] | None:
    """(table rows, CSV text) from rag.targets, or None where that module is not installed."""
    try:
        from rag.targets import extract_targets, targets_csv
    except ImportError:
        return None
    targets = extract_targets(chunks)
    table = [[x.indicator, x.target, x.year or "", x.clause_id if x.doc_id == primary_doc else
              f"{x.doc_id}:{x.clause_id}"] for x in targets]
    return table, targets_csv(targets)


def build_browse(settings: Settings, bot: Assistant, tr: Translator, lang: gr.Radio) -> BrowseParts:
    browser = ClauseBrowser(bot.retriever.view, bot.documents, settings.primary_doc)
    with gr.Tabs(selected="clauses", elem_id="pqa-browse-tabs") as inner:
        with gr.Tab(t("zh", "tab_clauses"), id="clauses", elem_id="pqa-tab-clauses") as clauses_tab:
            tr.add(clauses_tab, label="tab_clauses")
            with gr.Row():
                with gr.Column(scale=2, min_width=300):
                    jump = tr.add(gr.Textbox(label=t("zh", "jump"), placeholder=t("zh", "jump_ph"),
                                             submit_btn=t("zh", "jump_btn"), elem_id="pqa-jump"),
                                  label="jump", placeholder="jump_ph", submit_btn="jump_btn")
                    search = tr.add(gr.Textbox(label=t("zh", "search"), placeholder=t("zh", "search_ph"),
                                               submit_btn=t("zh", "search_btn"), elem_id="pqa-search"),
                                    label="search", placeholder="search_ph", submit_btn="search_btn")
                    tree = gr.HTML(lambda: browser.tree(STRINGS["zh"]), js_on_load=None, elem_id="pqa-tree")
                    tr.add_fn(tree, lambda lg: browser.tree(STRINGS[lg]))
                with gr.Column(scale=3):
                    detail = gr.HTML(f'<div class="pqa-empty">{t("zh", "pick_clause")}</div>', js_on_load=None,
                                     elem_id="pqa-detail")
        with gr.Tab(t("zh", "tab_targets"), id="targets", elem_id="pqa-tab-targets") as targets_tab:
            tr.add(targets_tab, label="tab_targets")
            targets_note = gr.Markdown()
            targets = gr.Dataframe(headers=TARGET_HEADERS, value=[], interactive=False, wrap=True, type="array",
                                   elem_id="pqa-targets")
            targets_csv = tr.add(gr.DownloadButton(t("zh", "targets_export"), visible=False,
                                                   elem_id="pqa-targets-csv"), label="targets_export")

    def do_jump(text: str, lg: str) -> str:
        return browser.jump(text or "", STRINGS[lg])

    def do_search(query: str, lg: str) -> str:
        return browser.search(query or "", STRINGS[lg])

    def load_targets(lg: str) -> tuple[Any, ...]:
        rows = target_rows(browser.view.chunks, settings.primary_doc)
        if rows is None:
            return t(lg, "targets_missing"), [], gr.update(visible=False)
        table, csv_text = rows
        path = export_file("targets.csv", csv_text)
        return "", table, gr.update(value=path, visible=bool(table))

    jump.submit(do_jump, [jump, lang], [detail], api_visibility="private", show_progress="hidden")
    search.submit(do_search, [search, lang], [detail], api_visibility="private", show_progress="hidden")
    targets_tab.select(load_targets, [lang], [targets_note, targets, targets_csv], api_visibility="private")
    return BrowseParts(browser, inner, detail)
