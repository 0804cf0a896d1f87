"""Chinese and English: message catalogs (Babel ``.po`` files) per package, merged at start.

Message ids are English; ``<package>/locale/zh/LC_MESSAGES/messages.po`` holds the
Chinese. Catalogs are compiled in memory when the app starts, so there is no build step
and no binary ``.mo`` file in the repository.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


def _compile(po_path: Path) -> tuple[Translations, set[str]]:
    """The compiled catalog and the ids it translates (empty and fuzzy entries left out)."""
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    translated = {
        m.id for m in catalog if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
    }
    return Translations(fp=buffer), translated


class Translator:
    """Looks up a message in the chosen language.

    A message shown on a Chinese page without its Chinese is logged (once per message, on
    ``procurement.i18n``): the source check of the catalogs sees only literal messages,
    while labels, flash messages and error templates are chosen at run time. The test
    suite fails a test whose pages logged one.
    """

    def __init__(self, package_dirs: Iterable[Path]) -> None:
        merged: Translations | None = None
        self._translated: set[str] = set()
        self._reported: set[str] = set()
        for package_dir in package_dirs:
            po_path = package_dir / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
            if not po_path.exists():
                continue
            compiled, translated = _compile(po_path)
            self._translated |= translated
            merged = compiled if merged is None else merged.merge(compiled)
        self._zh: NullTranslations = merged if merged is not None else NullTranslations()

    def gettext(self, language: str) -> Callable[[str], str]:
        """A ``_`` function for ``language`` (English returns the message id itself)."""
        if language == "zh":
            return self._chinese
        return _identity

    def _chinese(self, message: str) -> str:
        if not message.strip():
            return message  # gettext("") is the catalog's header, never page text
        if message not in self._translated and message not in self._reported:
            self._reported.add(message)
            log.warning("no Chinese for the message %r", message)
        return self._zh.gettext(message)


def _identity(message: str) -> str:
    return message


def pick_language(requested: str | None, accept_language: str | None) -> str:
    """The language to show: an explicit choice, else the browser's, else Chinese."""
    if requested in LANGUAGES:
        return requested
    if accept_language:
        first = accept_language.split(",")[0].strip().lower()
        if first.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
