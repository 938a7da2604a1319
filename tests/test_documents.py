"""The office's documents (issue 12): preview before indexing, atomic add / replace / remove, one code path
for 管理 and `policyqa corpus preview/add/remove`, and a bad file that changes nothing at all."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from index.catalog import CorpusError, load_catalog
from index.documents import Meta, add, plan_remove, preview_text, preview_upload, remove
from index.settings import Settings
from index.store import Store
from tests.api_fixtures import env_for, run_cli
from ui.admin_documents import DocumentHandlers, Upload

PORT_LINES = [
    "关于推进三门县智慧港口标准化建设的通知(测试夹具,非真实文件)",
    "一、工作目标",
    "(一)总体目标。到2026年,建成智慧码头3个以上,制定港口服务地方标准2项。",
    "二、主要任务",
    "(一)完善港口标准体系。",
    "1.制定智慧码头建设规范。由县港航中心牵头,2025年底前完成。",
    "2.推广电子运单。到2025年电子运单使用率达到90%。",
    "请各有关单位认真贯彻执行。",
]
PORT = "\n".join(PORT_LINES) + "\n"


def make_docx(path: Path, lines: list[str]) -> Path:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))
    return path


def make_pdf(path: Path, lines: list[str]) -> Path:
    """A text PDF (TrueType CJK font embedded) drawn by matplotlib, so pypdf can read the text back."""
    import matplotlib

    matplotlib.use("pdf")
    import matplotlib.pyplot as plt

    with plt.rc_context({"pdf.fonttype": 42, "font.family": ["WenQuanYi Zen Hei"]}):
        fig = plt.figure(figsize=(8.27, 11.69))
        for i, line in enumerate(lines):
            fig.text(0.06, 0.95 - i * 0.035, line, fontsize=10)
        fig.savefig(path)
        plt.close(fig)
    return path


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` by relative path → sha256 (what “byte-identical” means for a folder)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "build.lock"}


def test_the_seed_previews_as_its_30_clauses_with_coverage_and_its_one_unnumbered_paragraph(seed_text: str) -> None:
    preview = preview_text("sanmen", seed_text)
    ids = [c.clause_id for c in preview.clauses]
    assert len(ids) == 30 and ids[:4] == ["公告", "序言", "一(一)", "一(二)"] and ids[-1] == "三(三)"
    assert 0.9 < preview.coverage < 1.0  # the title line and the section headings are not clause text
    assert [(w.kind, w.clause_id) for w in preview.warnings] == [("unnumbered", "一(二)")]
    assert preview.ok and "到2025年,具有三门特色" in preview.warnings[0].message


def test_preview_warns_about_duplicate_ids_empty_clauses_and_numbering_it_does_not_read() -> None:
    text = ("一、总则\n(一)目的\n1.第一项。\n1.重复编号的第一项。\n(1)括号数字编号的段落。\n第三条 像条文编号的段落。\n"
            "二、附则\n(一)生效。本办法自印发之日起施行。\n这一段没有编号。\n3.\n")
    found = {(w.kind, w.clause_id) for w in preview_text("x", text).warnings}
    assert found == {("duplicate", "一(一)1"), ("looks_numbered", "一(一)1"), ("unnumbered", "二(一)"),
                     ("empty", "二(一)3")}
    plain = preview_text("x", "第一段文字。\n第二段文字。\n")
    assert [c.clause_id for c in plain.clauses] == ["¶1", "¶2"]
    assert [w.kind for w in plain.warnings] == ["no_structure"]


def test_add_replace_and_remove_write_the_catalog_and_files_atomically(corpus_copy: Path) -> None:
    before_catalog, before_files = (corpus_copy / "catalog.toml").read_bytes(), tree(corpus_copy)
    meta = Meta("port-2024", "关于推进三门县智慧港口标准化建设的通知", "三门县港航中心", "三港〔2024〕1号",
                "2024-03-01", "征求意见稿")
    doc = add(corpus_copy, meta, "port.txt", PORT.encode())
    assert (doc.path, doc.status, doc.number) == ("port-2024.txt", "征求意见稿", "三港〔2024〕1号")
    assert (corpus_copy / "port-2024.txt").read_text(encoding="utf-8") == PORT

    with pytest.raises(CorpusError, match="already has a text"):
        add(corpus_copy, Meta("port-2024"), "port.txt", PORT.encode())
    replaced = add(corpus_copy, Meta("port-2024", replace=True), "port.md", (PORT + "3.新增一项。\n").encode())
    assert replaced.path != "port-2024.txt" and not (corpus_copy / "port-2024.txt").exists()
    assert replaced.number == "三港〔2024〕1号"  # fields left empty keep the catalog's value

    final = add(corpus_copy, Meta("port-2024-final", "智慧港口通知(正式稿)", status="正式稿", supersedes="port-2024"),
                "final.txt", PORT.replace("90%", "95%").encode())
    assert final.supersedes == "port-2024"
    with pytest.raises(CorpusError, match="supersedes 'port-2024'; remove or change"):
        plan_remove(corpus_copy, "port-2024")
    with pytest.raises(CorpusError, match="already superseded"):
        add(corpus_copy, Meta("port-other", "另一份", supersedes="port-2024"), "o.txt", PORT.encode())
    assert "port-2024 is current again" in remove(corpus_copy, "port-2024-final")
    remove(corpus_copy, "port-2024")
    assert (corpus_copy / "catalog.toml").read_bytes() == before_catalog
    assert tree(corpus_copy) == before_files


def test_a_cited_document_gets_its_text_and_loses_only_the_text_on_removal(corpus_copy: Path, tmp_path: Path) -> None:
    src = make_docx(tmp_path / "zj.docx", ["一、总体要求", "(一)目标。夹具目标(测试用,非真实文本)。"])
    doc = add(corpus_copy, Meta("zhejiang-2022-11"), src.name, src.read_bytes())
    assert doc.path == "zhejiang-2022-11.docx" and doc.number == "浙委发〔2022〕11号"
    assert "text removed, catalog entry kept" in remove(corpus_copy, "zhejiang-2022-11")
    kept = {d.doc_id: d for d in load_catalog(corpus_copy)}["zhejiang-2022-11"]
    assert not kept.has_text and kept.number == "浙委发〔2022〕11号"
    for doc_id, why in (("sanmen", "primary document"), ("nope", "no document"), ("national-outline", "no text")):
        with pytest.raises(CorpusError, match=why):
            remove(corpus_copy, doc_id)


BAD_FILES = [("empty.txt", b""), ("blank.md", b"  \n\n\t\n"), ("broken.docx", b"PK\x03\x04 not a zip"),
             ("broken.pdf", b"%PDF-1.7 not a pdf"), ("latin.txt", b"\xff\xfe\xfa\xfb\x81\x00"), ("tool.exe", b"MZ")]


@pytest.mark.slow
def test_a_malformed_or_empty_file_changes_nothing_in_catalog_corpus_or_index(office_settings: Settings,
                                                                              tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with open(tmp_path / "scan.pdf", "wb") as fh:
        writer.write(fh)
    corpus, data = Path(office_settings.corpus_dir), Path(office_settings.data_dir)
    before = (tree(corpus), tree(data))
    handlers = DocumentHandlers(office_settings)
    for name, content in [*BAD_FILES, ("scan.pdf", (tmp_path / "scan.pdf").read_bytes())]:
        meta = Meta("bad-doc", "坏文件")
        preview = preview_upload(corpus, meta, name, content)
        assert not preview.ok and preview.errors, name
        with pytest.raises(CorpusError):
            add(corpus, meta, name, content)
        pending, html, _msg = handlers.preview(True, Upload(name, content), "zh", "bad-doc", "坏文件", "", "", "", "",
                                               "", False)
        assert pending is None and "不能入库" in html, name
        refused = handlers.confirm(True, pending, "zh", "bad-doc", "坏文件", "", "", "", "", "", False)
        assert "请先预览" in refused[2]
    assert "no text found" in preview_upload(corpus, Meta("x", "t"), "scan.pdf", (tmp_path / "scan.pdf").read_bytes()
                                             ).errors[-1]
    assert (tree(corpus), tree(data)) == before


@pytest.mark.slow
def test_cli_preview_add_and_remove_run_the_same_code_and_rebuild_the_index(office_settings: Settings,
                                                                            tmp_path: Path) -> None:
    env = {**os.environ, **env_for(office_settings), "POLICYQA_FAQ": "false"}
    pdf = make_pdf(tmp_path / "port.pdf", PORT_LINES)
    shown = run_cli(["corpus", "preview", str(pdf), "--doc-id", "port-2024", "--json"], env)
    assert shown.returncode == 0, shown.stderr.decode()
    from index.catalog import load_bytes

    expected = preview_text("port-2024", load_bytes(pdf.name, pdf.read_bytes())).to_json()
    assert json.loads(shown.stdout) == json.loads(json.dumps(expected, ensure_ascii=False))
    assert [c["clause_id"] for c in expected["clauses"]] == ["一(一)", "二(一)1", "二(一)2"]

    added = run_cli(["corpus", "add", str(pdf), "--doc-id", "port-2024", "--title", "智慧港口通知",
                     "--status", "正式稿"], env)
    assert added.returncode == 0, added.stderr.decode()
    assert b"index rebuilt" in added.stdout
    store = Store(office_settings)
    assert {c.clause_key for c in store.chunks(store.info().name)} >= {"port-2024:二(一)2", "sanmen:二(七)2"}
    removed = run_cli(["corpus", "remove", "port-2024"], env)
    assert removed.returncode == 0 and b"text and catalog entry removed" in removed.stdout, removed.stderr.decode()
    assert not any(c.doc_id == "port-2024" for c in store.chunks(store.info().name))
    bad = run_cli(["corpus", "add", str(tmp_path / "missing.txt"), "--doc-id", "x-doc", "--title", "t"], env)
    assert bad.returncode == 2 and b"cannot read" in bad.stderr and b"Traceback" not in bad.stderr

