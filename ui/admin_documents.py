"""管理 → 文档: upload a file with its metadata, preview its parse, confirm; replace or remove a document.

The same code path as `policyqa corpus preview/add/remove` (index/documents.py), then the one re-index
path (ui/reindex.py). Every handler re-checks the session's login. An uploaded file is checked again
here (size cap, type, content; ui/uploads.py), read into the session's server-side state and deleted
from Gradio's upload folder at once: it is never served back and never left behind.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from index.catalog import CorpusError, load_catalog
from index.documents import Meta, Preview, add, plan_remove, preview_upload, remove
from index.settings import Settings
from ui.doc_preview import CATALOG_HEADERS, catalog_rows, preview_html
from ui.format import esc
from ui.i18n import STRINGS, Translator, t
from ui.reindex import reindex
from ui.uploads import UploadPolicy

PRIVATE: dict[str, Any] = {"api_visibility": "private"}
REINDEX: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "pqa-reindex"}  # one rebuild at a time
FIELD_CHARS = 300
UPLOAD_STATUSES = ("征求意见稿", "正式稿", "已废止")


def require(authed: Any) -> None:
    if authed is not True:
        raise gr.Error("请先登录 / please log in")


def text(value: Any) -> str:
    return value.strip()[:FIELD_CHARS] if isinstance(value, str) else ""


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Pending:
    upload: Upload
    meta: Meta
    preview: Preview


def meta_of(doc_id: Any, title: Any, issuer: Any, number: Any, date: Any, status: Any, supersedes: Any,
            replace: Any) -> Meta:
    return Meta(text(doc_id), text(title), text(issuer), text(number), text(date), text(status), "",
                text(supersedes), replace is True)


def discard(path: str) -> None:
    """Delete a file Gradio stored for an upload, and its per-upload folder when that is left empty."""
    file = Path(path)
    file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        file.parent.rmdir()


class DocumentHandlers:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.corpus = Path(settings.corpus_dir)
        self.policy = UploadPolicy.parse(settings.admin_upload_max_bytes, settings.admin_upload_types)

    def catalog(self, authed: Any) -> tuple[Any, ...]:
        """The catalog table and the doc_id choices (every entry; with text, for removal)."""
        require(authed)
        docs = load_catalog(self.corpus)
        ids = [d.doc_id for d in docs]
        texts = [d.doc_id for d in docs if d.has_text and d.doc_id != self.settings.primary_doc]
        return (catalog_rows(docs), gr.update(choices=ids), gr.update(choices=["", *ids]),
                gr.update(choices=texts, value=None))

    def received(self, authed: Any, path: Any, lang: str) -> tuple[Any, ...]:
        """The upload event: check, read into the session's state, delete Gradio's copy (and the old preview)."""
        if not isinstance(path, str) or not path:
            return None, None, "", ""
        try:
            require(authed)
            folder = Path(gr.utils.get_upload_folder()).resolve()
            file = Path(path).resolve()
            if folder not in file.parents:
                raise gr.Error("not an uploaded file")
            data = file.read_bytes()
        finally:
            discard(path)
        name = Path(path).name
        problem = self.policy.check_file(name, data)
        if problem:
            return None, None, f"⚠ {esc(problem)}", ""
        kb = max(1, round(len(data) / 1024))
        return Upload(name, data), None, esc(t(lang, "doc_read").format(name=name, kb=kb)), ""

    def preview(self, authed: Any, upload: Any, lang: str, *fields: Any) -> tuple[Any, ...]:
        require(authed)
        if not isinstance(upload, Upload):
            return None, "", f"⚠ {esc(t(lang, 'doc_need_file'))}"
        meta = meta_of(*fields)
        try:
            result = preview_upload(self.corpus, meta, upload.filename, upload.data)
        except CorpusError as exc:  # the catalog itself is broken: say so
            return None, "", f"⚠ {esc(exc)}"
        html = preview_html(result, STRINGS[lang])
        return (Pending(upload, meta, result) if result.ok else None), html, ""

    def confirm(self, authed: Any, pending: Any, lang: str, *fields: Any,
                progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Write file + catalog (atomically, nothing on failure), then rebuild the index with progress.

        Outputs: pending, upload, message, the file box and the preview (emptied after a write), the catalog lists.
        """
        require(authed)
        keep = (pending, gr.update())
        if not isinstance(pending, Pending) or pending.meta != meta_of(*fields):
            return *keep, f"⚠ {esc(t(lang, 'doc_need_preview'))}", gr.update(), gr.update(), *self.catalog(authed)
        progress(0, desc="writing")
        try:
            doc = add(self.corpus, pending.meta, pending.upload.filename, pending.upload.data)
        except CorpusError as exc:
            return *keep, f"⚠ {esc(exc)}", gr.update(), gr.update(), *self.catalog(authed)
        progress(0, desc="indexing")
        _ok, message = reindex(self.settings, lambda done, total: progress((done, total), desc="indexing"))
        saved = esc(t(lang, "doc_saved").format(doc_id=doc.doc_id, path=doc.path))
        return None, None, f"✓ {saved}<br>{message}", gr.update(value=None), "", *self.catalog(authed)

    def plan(self, authed: Any, doc_id: Any, lang: str) -> tuple[Any, str]:
        require(authed)
        try:
            return text(doc_id), esc(plan_remove(self.corpus, text(doc_id), self.settings.primary_doc))
        except CorpusError as exc:
            return None, f"⚠ {esc(exc)}"

    def remove(self, authed: Any, planned: Any, doc_id: Any, lang: str,
               progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        require(authed)
        if not isinstance(planned, str) or planned != text(doc_id):
            return planned, f"⚠ {esc(t(lang, 'doc_remove_first'))}", *self.catalog(authed)
        try:
            done = remove(self.corpus, planned, self.settings.primary_doc)
        except CorpusError as exc:
            return None, f"⚠ {esc(exc)}", *self.catalog(authed)
        _ok, message = reindex(self.settings, lambda n, total: progress((n, total), desc="indexing"))
        return None, f"✓ {esc(done)}<br>{message}", *self.catalog(authed)


def build_documents(settings: Settings, tr: Translator, lang: gr.Radio, authed: gr.State) -> Any:
    """The tab's components and events; returns the event that loads the catalog (run when the tab opens)."""
    h = DocumentHandlers(settings)
    upload, pending, planned = gr.State(None), gr.State(None), gr.State(None)
    tr.add(gr.Markdown(t("zh", "docs_title")), value="docs_title")
    table = gr.Dataframe(headers=CATALOG_HEADERS, value=[], type="array", interactive=False, wrap=True,
                         max_height=330, column_widths=["14%", "34%", "9%", "13%", "9%", "13%", "8%"],
                         elem_id="pqa-docs-table")
    enabled = h.policy.enabled
    if not enabled:
        tr.add(gr.Markdown(t("zh", "doc_upload_off"), elem_id="pqa-doc-upload-off"), value="doc_upload_off")
    file = tr.add(gr.File(label=t("zh", "doc_file"), file_types=list(h.policy.types), type="filepath",
                          interactive=enabled, height=110, elem_id="pqa-doc-file"), label="doc_file")
    with gr.Row():
        doc_id = tr.add(gr.Dropdown([], value=None, allow_custom_value=True, label=t("zh", "doc_id"), scale=2,
                                    elem_id="pqa-doc-id"), label="doc_id")
        title = tr.add(gr.Textbox(label=t("zh", "doc_title"), max_length=FIELD_CHARS, scale=3,
                                  elem_id="pqa-doc-title"), label="doc_title")
    with gr.Row():
        issuer = tr.add(gr.Textbox(label=t("zh", "doc_issuer"), max_length=FIELD_CHARS, elem_id="pqa-doc-issuer"),
                        label="doc_issuer")
        number = tr.add(gr.Textbox(label=t("zh", "doc_number"), max_length=FIELD_CHARS, elem_id="pqa-doc-number"),
                        label="doc_number")
        date = tr.add(gr.Textbox(label=t("zh", "doc_date"), max_length=40, placeholder="2024-03-01",
                                 elem_id="pqa-doc-date"), label="doc_date")
    with gr.Row():
        status = tr.add(gr.Dropdown(["", *UPLOAD_STATUSES], value="", label=t("zh", "doc_status"),
                                    elem_id="pqa-doc-status"), label="doc_status")
        supersedes = tr.add(gr.Dropdown([""], value="", label=t("zh", "doc_supersedes"), elem_id="pqa-doc-supersedes"),
                            label="doc_supersedes")
        replace = tr.add(gr.Checkbox(False, label=t("zh", "doc_replace"), elem_id="pqa-doc-replace"),
                         label="doc_replace")
    with gr.Row():
        preview = tr.add(gr.Button(t("zh", "doc_preview"), elem_id="pqa-doc-preview"), value="doc_preview")
        confirm = tr.add(gr.Button(t("zh", "doc_confirm"), variant="primary", elem_id="pqa-doc-confirm"),
                         value="doc_confirm")
    msg = gr.Markdown(elem_id="pqa-doc-msg")
    shown = gr.HTML("", js_on_load=None, elem_id="pqa-doc-preview-out")
    with gr.Row():
        gone = tr.add(gr.Dropdown([], value=None, label=t("zh", "doc_remove_id"), elem_id="pqa-doc-remove-id"),
                      label="doc_remove_id")
        plan = tr.add(gr.Button(t("zh", "doc_remove_plan"), elem_id="pqa-doc-remove-plan"), value="doc_remove_plan")
        drop = tr.add(gr.Button(t("zh", "doc_remove"), variant="stop", elem_id="pqa-doc-remove"), value="doc_remove")
    remove_msg = gr.Markdown(elem_id="pqa-doc-remove-msg")

    fields = [doc_id, title, issuer, number, date, status, supersedes, replace]
    lists = [table, doc_id, supersedes, gone]
    file.upload(h.received, [authed, file, lang], [upload, pending, msg, shown], **PRIVATE)
    file.clear(lambda: (None, None, "", ""), None, [upload, pending, msg, shown], **PRIVATE)
    preview.click(h.preview, [authed, upload, lang, *fields], [pending, shown, msg], **PRIVATE)
    confirm.click(h.confirm, [authed, pending, lang, *fields], [pending, upload, msg, file, shown, *lists],
                  **REINDEX, **PRIVATE)
    plan.click(h.plan, [authed, gone, lang], [planned, remove_msg], **PRIVATE)
    drop.click(h.remove, [authed, planned, gone, lang], [planned, remove_msg, *lists], **REINDEX, **PRIVATE)
    return h.catalog, lists

