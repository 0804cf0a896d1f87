"""Enumerations whose members read as words in Chinese and in English.

A status or kind is stored as its value (``bidding_closed``, ``technical``) and shown as a
label. In a message template ``{status}`` is the value, as for any string; ``{status:zh}``
and ``{status:en}`` are the labels, so a translation names the thing in its own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Labelled(StrEnum):
    """A StrEnum whose members have a Chinese and an English label (:func:`add_labels`)."""

    def __format__(self, spec: str) -> str:
        if spec == "zh":
            return self.label_zh
        if spec == "en":
            return self.label_en
        return super().__format__(spec)

    @property
    def label_zh(self) -> str:
        """The Chinese label."""
        return _LABELS[type(self)][self.value][0]

    @property
    def label_en(self) -> str:
        """The English label."""
        return _LABELS[type(self)][self.value][1]

    def label(self, language: str) -> str:
        """The label in ``language`` ("zh", "zh-CN", ... → Chinese; anything else English)."""
        return self.label_zh if language.lower().startswith("zh") else self.label_en


_LABELS: dict[type[Labelled], Mapping[str, tuple[str, str]]] = {}


def add_labels(enum: type[Labelled], table: Mapping[str, tuple[str, str]]) -> None:
    """Give each member of ``enum`` its (Chinese, English) label from ``table``.

    Every member needs one: a missing label fails at import, not on the page that shows it.
    """
    missing = [m.value for m in enum if m.value not in table]
    if missing:
        raise TypeError(f"{enum.__name__} has no labels for {missing}")
    _LABELS[enum] = table
