"""Tender-document file names are safe to store and to send back."""

from __future__ import annotations

from procurement.documents import MAX_FILENAME_BYTES, clean_filename


def test_long_chinese_file_names_are_cut_by_bytes_keeping_the_extension() -> None:
    name = clean_filename("招标文件" * 100 + ".pdf")
    assert len(name.encode()) <= MAX_FILENAME_BYTES
    assert name.endswith("招标文件.pdf")
    assert clean_filename("a/b\\c:d.pdf") == "a_b_c_d.pdf"
