"""The catalog records every document; files are checked by sha256 and read per format."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from index.catalog import CorpusError, add_document, load_catalog, load_file, read_text
from tests.conftest import SEED


def test_catalog_lists_the_opinion_with_its_sha256_and_the_three_cited_documents() -> None:
    docs = {d.doc_id: d for d in load_catalog(SEED.parent)}
    assert set(docs) == {"sanmen", "national-outline", "zhejiang-2022-11", "taizhou-2022-65"}
    sanmen = docs["sanmen"]
    assert sanmen.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert sanmen.cites == ("national-outline", "zhejiang-2022-11", "taizhou-2022-65")
    assert docs["zhejiang-2022-11"].number == "浙委发〔2022〕11号"
    assert docs["taizhou-2022-65"].number == "台市委发〔2022〕65号"
    assert not docs["national-outline"].has_text


def test_seed_copy_is_byte_identical_to_the_published_text() -> None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_abb39b71d69f7973.txt"
    if not shared.exists():
        pytest.skip("shared/ seeds not beside this checkout")
    assert SEED.read_bytes() == shared.read_bytes()


def test_changed_file_is_a_clear_error_naming_it(corpus_copy: Path) -> None:
    target = corpus_copy / "sanmen-opinion-2023-draft.txt"
    target.write_text(target.read_text(encoding="utf-8") + "篡改", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"sanmen-opinion-2023-draft\.txt: sha256 changed"):
        load_catalog(corpus_copy)


def test_unknown_format_and_unreadable_files_name_the_file(tmp_path: Path) -> None:
    odd = tmp_path / "notes.xyz"
    odd.write_text("x")
    with pytest.raises(CorpusError, match=r"notes\.xyz: unknown format"):
        load_file(odd)
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(CorpusError, match=r"broken\.docx: cannot read as docx"):
        load_file(broken)
    broken_pdf = tmp_path / "broken.pdf"
    broken_pdf.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(CorpusError, match=r"broken\.pdf"):
        load_file(broken_pdf)


def test_docx_html_md_and_pdf_are_read_as_text(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("一、总体要求")
    document.add_paragraph("(一)指导思想。坚持标准引领。")
    document.save(str(tmp_path / "a.docx"))
    assert load_file(tmp_path / "a.docx").splitlines() == ["一、总体要求", "(一)指导思想。坚持标准引领。"]

    (tmp_path / "a.html").write_text(
        "<html><head><script>alert(1)</script></head><body><p>一、总体要求</p><p>(一)指导思想。</p></body></html>",
        encoding="utf-8",
    )
    html = load_file(tmp_path / "a.html")
    assert "一、总体要求" in html and "alert" not in html

    (tmp_path / "a.md").write_text("# 标题\n\n**一、总体要求**\n", encoding="utf-8")
    assert load_file(tmp_path / "a.md").split() == ["标题", "一、总体要求"]

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with open(tmp_path / "blank.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(CorpusError, match=r"blank\.pdf: no text found"):
        load_file(tmp_path / "blank.pdf")


def test_corpus_add_attaches_text_to_a_cited_document_and_records_sha(corpus_copy: Path, tmp_path: Path) -> None:
    src = tmp_path / "fixture-zj.md"
    src.write_text("# 夹具文件(测试用,非真实文本)\n\n一、总体要求\n(一)目标。夹具目标。\n", encoding="utf-8")
    doc = add_document(corpus_copy, src, doc_id="zhejiang-2022-11")
    assert doc.path == "zhejiang-2022-11.md"
    assert doc.number == "浙委发〔2022〕11号"  # metadata kept
    assert doc.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert "夹具目标" in read_text(corpus_copy, doc)
    with pytest.raises(CorpusError, match="already has a text"):
        add_document(corpus_copy, src, doc_id="zhejiang-2022-11")


def test_corpus_add_rejects_bad_ids_missing_titles_and_bad_files(corpus_copy: Path, tmp_path: Path) -> None:
    src = tmp_path / "x.txt"
    src.write_text("正文。", encoding="utf-8")
    before = (corpus_copy / "catalog.toml").read_bytes()
    with pytest.raises(CorpusError, match="invalid doc_id"):
        add_document(corpus_copy, src, doc_id="../../etc/passwd", title="t")
    with pytest.raises(CorpusError, match="--title is required"):
        add_document(corpus_copy, src, doc_id="new-doc")
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(CorpusError, match="unknown format"):
        add_document(corpus_copy, bad, doc_id="new-doc", title="t")
    assert (corpus_copy / "catalog.toml").read_bytes() == before  # nothing written
