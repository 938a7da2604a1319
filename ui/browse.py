"""The 条文查阅 tab: clause tree, jump by number, keyword search, and the targets table with CSV export.

Jump and search texts are limited to `POLICYQA_MAX_SEARCH_CHARS`; the CSV is made when asked for and
downloaded once from memory (ui/exports.py), never written to a temp directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from index.models import Chunk
from index.settings import Settings
from rag.chain import Assistant
from rag.lexicon import Lexicon
from ui.assets import DOWNLOAD_JS
from ui.clauses import ClauseBrowser
from ui.compare import compare, compare_html, sides, version_pair
from ui.exports import Exports
from ui.format import esc
from ui.i18n import STRINGS, Translator, t
from ui.notes import Notes
from ui.versions import fresh_documents

TARGET_HEADERS = ["指标", "数值", "年份", "条款"]


@dataclass
class BrowseParts:
    browser: ClauseBrowser
    inner_tabs: gr.Tabs
    detail: gr.HTML
    tree: gr.HTML


def download_link(tr: Translator, key: str, elem_id: str, **kwargs: Any) -> tuple[gr.Button, gr.Textbox]:
    """A button and the hidden box its handler fills with a one-time link; the page then downloads it."""
    button = tr.add(gr.Button(t("zh", key), size="sm", elem_id=elem_id, **kwargs), value=key)
    link = gr.Textbox(visible="hidden", elem_id=f"{elem_id}-link")
    return button, link


def too_long(text: str, limit: int, lg: str) -> str | None:
    """The notice for a jump/search text over the limit (None when it is fine)."""
    if len(text.strip()) <= limit:
        return None
    return f'<div class="pqa-empty">{esc(t(lg, "search_too_long").format(n=len(text.strip()), limit=limit))}</div>'


def target_rows(chunks: list[Chunk], primary_doc: str, lexicon: Lexicon) -> tuple[list[list[Any]], str] | None:
    """(table rows, CSV text) from rag.targets, or None where that module is not installed."""
    try:
        from rag.targets import extract_targets, targets_csv
    except ImportError:
        return None
    targets = extract_targets(chunks, lexicon.target)
    table = [[x.indicator, x.target, x.year or "", x.clause_id if x.doc_id == primary_doc else
              f"{x.doc_id}:{x.clause_id}"] for x in targets]
    return table, targets_csv(targets)


def build_browse(settings: Settings, bot: Assistant, tr: Translator, lang: gr.Radio,
                 exports: Exports | None = None, notes: Notes | None = None) -> BrowseParts:
    exports = exports if exports is not None else Exports()
    limit = settings.max_search_chars

    def documents() -> Any:
        fresh_documents(bot, settings.corpus_dir)
        return bot.documents

    browser = ClauseBrowser(bot.retriever.view, documents, settings.primary_doc, notes)
    with gr.Tabs(selected="clauses", elem_id="pqa-browse-tabs") as inner:
        with gr.Tab(t("zh", "tab_clauses"), id="clauses", elem_id="pqa-tab-clauses") as clauses_tab:
            tr.add(clauses_tab, label="tab_clauses")
            with gr.Row():
                with gr.Column(scale=2, min_width=300):
                    jump = tr.add(gr.Textbox(label=t("zh", "jump"), placeholder=t("zh", "jump_ph"), max_length=limit,
                                             submit_btn=t("zh", "jump_btn"), elem_id="pqa-jump"),
                                  label="jump", placeholder="jump_ph", submit_btn="jump_btn")
                    search = tr.add(gr.Textbox(label=t("zh", "search"), placeholder=t("zh", "search_ph"),
                                               max_length=limit,
                                               submit_btn=t("zh", "search_btn"), elem_id="pqa-search"),
                                    label="search", placeholder="search_ph", submit_btn="search_btn")
                    # filled by the page's load event (ui/app.py): building it here would add the whole
                    # tree's rendering (0.6 s at 20k clauses) to every replica's start
                    tree = gr.HTML("", js_on_load=None, elem_id="pqa-tree")
                    tr.add_fn(tree, lambda lg: browser.tree(STRINGS[lg]))
                with gr.Column(scale=3):
                    detail = gr.HTML(f'<div class="pqa-empty">{t("zh", "pick_clause")}</div>', js_on_load=None,
                                     elem_id="pqa-detail")
        with gr.Tab(t("zh", "tab_targets"), id="targets", elem_id="pqa-tab-targets") as targets_tab:
            tr.add(targets_tab, label="tab_targets")
            targets_note = gr.Markdown()
            targets = gr.Dataframe(headers=TARGET_HEADERS, value=[], interactive=False, wrap=True, type="array",
                                   elem_id="pqa-targets")
            targets_csv, targets_link = download_link(tr, "targets_export", "pqa-targets-csv", visible=False)
        with gr.Tab(t("zh", "tab_compare"), id="compare", elem_id="pqa-tab-compare") as compare_tab:
            tr.add(compare_tab, label="tab_compare")
            with gr.Row():
                old = tr.add(gr.Dropdown([], label=t("zh", "compare_old"), scale=3, elem_id="pqa-cmp-old"),
                             label="compare_old")
                new = tr.add(gr.Dropdown([], label=t("zh", "compare_new"), scale=3, elem_id="pqa-cmp-new"),
                             label="compare_new")
                only = tr.add(gr.Checkbox(False, label=t("zh", "compare_only_changed"), scale=1,
                                          elem_id="pqa-cmp-only"), label="compare_only_changed")
                run = tr.add(gr.Button(t("zh", "compare_btn"), variant="primary", scale=0, min_width=120,
                                       elem_id="pqa-cmp-run"), value="compare_btn")
            compared = gr.HTML("", js_on_load=None, elem_id="pqa-compare")

    def do_jump(text: Any, lg: str) -> str:
        text = text if isinstance(text, str) else ""
        return too_long(text, limit, lg) or browser.jump(text, STRINGS[lg])

    def do_search(query: Any, lg: str) -> str:
        query = query if isinstance(query, str) else ""
        return too_long(query, limit, lg) or browser.search(query, STRINGS[lg])

    def load_targets(lg: str) -> tuple[Any, ...]:
        rows = target_rows(browser.view.chunks, settings.primary_doc, bot.lexicon)
        if rows is None:
            return t(lg, "targets_missing"), [], gr.update(visible=False)
        return "", rows[0], gr.update(visible=bool(rows[0]))

    def export_targets() -> str:
        rows = target_rows(browser.view.chunks, settings.primary_doc, bot.lexicon)
        return exports.issue("targets.csv", rows[1]) if rows else ""

    def with_text() -> list[str]:
        present = {c.doc_id for c in browser.view.chunks}
        return [d for d in documents() if d in present]

    def compare_choices() -> tuple[Any, ...]:
        docs, ids = documents(), with_text()
        choices = [(f"{d} [{docs[d].status or '—'}] {docs[d].citation_title}", d) for d in ids]
        first, second = version_pair(docs, ids)
        return gr.update(choices=choices, value=first), gr.update(choices=choices, value=second)

    def do_compare(old_id: Any, new_id: Any, only_changed: Any, lg: str) -> str:
        ids, s = with_text(), STRINGS[lg]
        if old_id not in ids or new_id not in ids or old_id == new_id:
            return f'<div class="pqa-empty">{esc(s["compare_pick"])}</div>'
        view = browser.view
        rows = compare(sides(view, old_id), sides(view, new_id))
        return compare_html(rows, browser.title(old_id), browser.title(new_id), s, only_changed is True)

    private: dict[str, Any] = {"api_visibility": "private"}
    compare_tab.select(compare_choices, None, [old, new], **private)
    run.click(do_compare, [old, new, only, lang], [compared], **private)
    jump.submit(do_jump, [jump, lang], [detail], show_progress="hidden", **private)
    search.submit(do_search, [search, lang], [detail], show_progress="hidden", **private)
    targets_tab.select(load_targets, [lang], [targets_note, targets, targets_csv], **private)
    targets_csv.click(export_targets, None, [targets_link], **private).then(
        None, [targets_link], None, js=DOWNLOAD_JS, **private)
    return BrowseParts(browser, inner, detail, tree)
