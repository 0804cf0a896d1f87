"""Chinese and English: message catalogs (Babel ``.po`` files) per package, merged at start.

Message ids are English; ``<package>/locale/zh/LC_MESSAGES/messages.po`` holds the
Chinese. The catalogs are read into one table when the app starts, so there is no build
step and no binary ``.mo`` file in the repository. They use no plural forms or contexts,
so a message's Chinese is a plain lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
UNTRANSLATED = "no Chinese for the message"
"""How the log line of a message shown without its Chinese begins (the tests look for it)."""


def catalog_of(package_dir: Path) -> dict[str, str]:
    """A package's Chinese: message id → translation, empty and fuzzy entries left out.

    An empty or fuzzy entry is not a translation (gettext skips it too), so its message
    counts as untranslated. The catalog header (the empty id) is not a message.
    """
    po_path = package_dir / "locale" / "zh" / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return {}
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="zh_Hans_CN")
    return {
        m.id: str(m.string)
        for m in catalog
        if isinstance(m.id, str) and m.id and m.string and not m.fuzzy
    }


class Translator:
    """Looks up a message in the chosen language.

    A message shown on a Chinese page without its Chinese is logged (once per message, on
    ``procurement.i18n``): the source check of the catalogs sees only literal messages,
    while labels, flash messages and error templates are chosen at run time. The test
    suite fails a test whose pages logged one.
    """

    def __init__(self, package_dirs: Iterable[Path]) -> None:
        self._zh: dict[str, str] = {}
        for package_dir in package_dirs:  # a later package's entry wins, as gettext merges
            self._zh.update(catalog_of(package_dir))
        self._reported: set[str] = set()

    def gettext(self, language: str) -> Callable[[str], str]:
        """A ``_`` function for ``language`` (English returns the message id itself)."""
        if language == "zh":
            return self._chinese
        return _identity

    def _chinese(self, message: str) -> str:
        translated = self._zh.get(message)
        if translated is not None:
            return translated
        if message.strip() and message not in self._reported:
            self._reported.add(message)
            log.warning("%s %r", UNTRANSLATED, message)
        return message


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
