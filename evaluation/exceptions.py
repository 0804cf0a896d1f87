"""Errors of the evaluation rules, rooted at :class:`procurement.exceptions.ZhaocaiError`.

The web layer maps each to its HTTP status with the message as the body, so every message
says what is wrong and what to change.
"""

from __future__ import annotations

from collections.abc import Iterable

from procurement.exceptions import Conflict, ValidationError


class SchemeError(ValidationError):
    """A scoring scheme that breaks the rules (MOF87 Art. 55; SME46 Art. 9).

    Every problem found is listed at once, so the purchaser can fix the scheme in one pass.

    Args:
        problems: one sentence per broken rule.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"the scoring scheme (评分办法) is not valid:\n{lines}", field="scheme")


class ScoreError(ValidationError):
    """Expert scores that cannot be aggregated: missing, unknown or out of range (MOF87 Art. 64)."""


class TieUnresolved(ValidationError):
    """Equal first places that need the documents' rule or a random draw (MOF87 Art. 68)."""


class CorrectionRefused(ValidationError):
    """A score correction for a reason the rules do not allow (MOF87 Art. 64; GPL-R Art. 44)."""


class DuplicateQuote(Conflict):
    """A second quote from the same supplier: one price, once (一次报出不得更改, GPL Art. 40)."""
