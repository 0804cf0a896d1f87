"""Every message a page can show has its Chinese, and one Chinese only.

The portal's default language is Chinese; an English sentence on a Chinese page is a
defect a user cannot act on. Three kinds of text reach pages: the templates' ``_("…")``,
the code's ``_(request, "…")``, and domain errors (``ZhaocaiError`` and its subclasses),
whose message is a template filled in after translation. All three are read from the
source here, so a new message without its translation fails this test.
"""

from __future__ import annotations

import ast
import logging
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest
from jinja2.ext import extract_from_ast

from procurement.exceptions import ValidationError
from procurement.i18n import Translator, catalog_of

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("procurement", "bidding", "evaluation", "expert_pool")
ROOT_ERRORS = frozenset(
    {"ZhaocaiError", "ValidationError", "NotFound", "Forbidden", "Conflict", "DeadlinePassed"}
)


@dataclass(frozen=True)
class Message:
    msgid: str
    where: str


def python_files() -> Iterator[tuple[str, Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "piccolo_migrations" in path.parts:
                continue
            yield package, path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def error_classes() -> frozenset[str]:
    """Names of every domain error class: the roots and whatever derives from them."""
    bases: dict[str, set[str]] = {}
    for _package, _path, tree in python_files():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    known = set(ROOT_ERRORS)
    while True:
        grown = {name for name, parents in bases.items() if parents & known} | known
        if grown == known:
            return frozenset(known)
        known = grown


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def code_messages() -> tuple[list[Message], list[str]]:
    """Messages in code, and the raise sites whose message cannot be translated."""
    errors = error_classes()
    messages: list[Message] = []
    untranslatable: list[str] = []
    for _package, path, tree in python_files():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _name(node.func)
            if called == "_" and len(node.args) == 2:
                text = node.args[1]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    messages.append(Message(text.value, _where(path, node)))
            elif called in errors and node.args:
                text = node.args[0]
                if isinstance(text, ast.Constant) and isinstance(text.value, str):
                    fields = {
                        field for _, field, _, _ in string.Formatter().parse(text.value) if field
                    }
                    given = {k.arg for k in node.keywords if k.arg} - {"field", "code"}
                    if fields and fields != given:
                        untranslatable.append(
                            f"{_where(path, node)}: fields {sorted(fields)} but keywords "
                            f"{sorted(given)}"
                        )
                    messages.append(Message(text.value, _where(path, node)))
                elif isinstance(text, ast.JoinedStr | ast.BinOp) or (
                    isinstance(text, ast.Call) and _name(text.func) == "format"
                ):
                    untranslatable.append(
                        f"{_where(path, node)}: {called} built from an f-string or "
                        "formatting; pass a template and its values as keywords"
                    )
    return messages, untranslatable


def template_messages() -> list[Message]:
    environment = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.do"])
    messages: list[Message] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package / "templates").rglob("*.html")):
            tree = environment.parse(path.read_text(encoding="utf-8"))
            for lineno, _function, message in extract_from_ast(tree, gettext_functions=("_",)):
                if isinstance(message, str):
                    messages.append(Message(message, f"{path.relative_to(ROOT)}:{lineno}"))
    return messages


def catalogs() -> dict[str, dict[str, str]]:
    """Each package's Chinese catalog: message id → translation (empty and fuzzy left out)."""
    return {package: catalog_of(ROOT / package) for package in PACKAGES}


def test_every_message_a_page_can_show_has_its_chinese() -> None:
    translated: dict[str, str] = {}
    for table in catalogs().values():
        translated.update(table)
    messages, _ = code_messages()
    missing = sorted(
        f"{m.where}: {m.msgid!r}"
        for m in [*messages, *template_messages()]
        if m.msgid not in translated
    )
    assert not missing, f"{len(missing)} messages without Chinese:\n" + "\n".join(missing)


def test_framework_errors_this_code_raises_read_in_chinese() -> None:
    """403/404 pages carry these details; litestar's exceptions are not domain errors."""
    from procurement.web import FRAMEWORK_DETAILS

    translated = catalog_of(ROOT / "procurement")
    assert sorted(FRAMEWORK_DETAILS - translated.keys()) == []


def test_error_messages_are_templates_the_catalog_can_hold() -> None:
    """An f-string message has no fixed text to translate; its fields must be keywords."""
    _, untranslatable = code_messages()
    assert not untranslatable, "\n".join(untranslatable)


def test_translations_keep_the_fields_their_message_fills_in() -> None:
    """A translation that drops or renames ``{lot}`` would show the English instead."""
    wrong = []
    for package, table in catalogs().items():
        for msgid, text in table.items():
            try:
                want = {f for _, f, _, _ in string.Formatter().parse(msgid) if f}
                got = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            except ValueError:
                continue  # not a template (a literal brace): filled in never
            if want != got:
                wrong.append(f"{package}: {msgid!r} → {text!r}")
    assert not wrong, "\n".join(wrong)


def test_no_message_has_two_translations() -> None:
    """Catalogs are merged in package order, so a second translation would silently win."""
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for package, table in catalogs().items():
        for msgid, text in table.items():
            if msgid in seen and seen[msgid][1] != text:
                clashes.append(
                    f"{msgid!r}: {seen[msgid][0]} {seen[msgid][1]!r}, {package} {text!r}"
                )
            seen.setdefault(msgid, (package, text))
    assert not clashes, "\n".join(clashes)


def test_an_error_reads_in_the_page_language() -> None:
    error = ValidationError("lot {lot} is closed", lot=7, field="lot")
    chinese = {"lot {lot} is closed": "标段 {lot} 已截止"}
    assert str(error) == "lot 7 is closed"
    assert error.localized(lambda m: chinese.get(m, m)) == "标段 7 已截止"
    assert error.localized(lambda m: m) == "lot 7 is closed"
    assert error.field == "lot"
    assert error.params == {"lot": 7}


def test_an_error_given_as_a_value_reads_in_the_same_language() -> None:
    problem = ValidationError("amount {value} must not be negative", value="-5")
    error = ValidationError("contract amount: {problem}", problem=problem)
    chinese = {
        "contract amount: {problem}": "合同金额格式不正确：{problem}",
        "amount {value} must not be negative": "金额 {value} 不能为负数",
    }
    assert str(error) == "contract amount: amount -5 must not be negative"
    assert error.localized(lambda m: chinese.get(m, m)) == "合同金额格式不正确：金额 -5 不能为负数"


def test_a_translation_naming_another_field_falls_back_to_english() -> None:
    error = ValidationError("lot {lot} is closed", lot=7)
    assert error.localized(lambda m: "标段 {number} 已截止") == "lot 7 is closed"


def test_a_message_without_values_is_not_formatted() -> None:
    """A literal brace in a plain message is text, not a field."""
    error = ValidationError("use {} for an empty list")
    assert str(error) == "use {} for an empty list"
    assert error.localized(lambda m: "空列表写作 {}") == "空列表写作 {}"


@pytest.mark.shows_untranslated
def test_a_message_without_chinese_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    """Run-time messages (labels, flash messages) escape the source check; pages report them."""
    chinese = Translator(ROOT / package for package in PACKAGES).gettext("zh")
    with caplog.at_level(logging.WARNING, logger="procurement.i18n"):
        assert chinese("Status") == "状态"
        assert chinese("A label nobody translated") == "A label nobody translated"
        assert chinese("A label nobody translated") == "A label nobody translated"
        assert chinese("") == ""
    assert [r.getMessage() for r in caplog.records] == [
        "no Chinese for the message 'A label nobody translated'"
    ]


def test_english_pages_report_nothing(caplog: pytest.LogCaptureFixture) -> None:
    english = Translator(ROOT / package for package in PACKAGES).gettext("en")
    with caplog.at_level(logging.WARNING, logger="procurement.i18n"):
        assert english("A label nobody translated") == "A label nobody translated"
    assert caplog.records == []
