"""Errors of the evaluation rules, rooted at :class:`procurement.exceptions.ZhaocaiError`.

The web layer maps each to its HTTP status with the message as the body, so every message
says what is wrong and what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from procurement.exceptions import Conflict, ValidationError


class SchemeProblem(ValidationError):
    """One broken rule of a scoring scheme: a message template and its values.

    Collected, not raised: a :class:`SchemeError` holds every problem found, as an exception
    group holds its members, so each line is translated as a template of its own.
    """


class SchemeError(ValidationError):
    """A scoring scheme that breaks the rules (MOF87 Art. 55; SME46 Art. 9).

    Every problem found is listed at once, so the purchaser can fix the scheme in one pass.
    ``problems`` are the lines in English; :meth:`localized_problems` gives them in the
    reader's language.

    Args:
        problems: one per broken rule; plain text is kept as it is.
    """

    def __init__(self, problems: Iterable[SchemeProblem | str]) -> None:
        self.details: tuple[SchemeProblem, ...] = tuple(
            p if isinstance(p, SchemeProblem) else SchemeProblem(p) for p in problems
        )
        self.problems: tuple[str, ...] = tuple(str(p) for p in self.details)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(
            "the scoring scheme (评分办法) is not valid:\n{lines}", field="scheme", lines=lines
        )

    def localized_problems(self, gettext: Callable[[str], str]) -> tuple[str, ...]:
        """The problem lines in the reader's language, in order."""
        return tuple(p.localized(gettext) for p in self.details)

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The message with its heading and every line in the reader's language."""
        lines = "\n".join(f"- {line}" for line in self.localized_problems(gettext))
        try:
            return gettext(self.template).format(lines=lines)
        except (KeyError, IndexError, ValueError):
            return self.message


class ScoreError(ValidationError):
    """Expert scores that cannot be aggregated: missing, unknown or out of range (MOF87 Art. 64)."""


class TieUnresolved(ValidationError):
    """Equal first places that need the documents' rule or a random draw (MOF87 Art. 68)."""


class CorrectionRefused(ValidationError):
    """A score correction for a reason the rules do not allow (MOF87 Art. 64; GPL-R Art. 44)."""


class DuplicateQuote(Conflict):
    """A second quote from the same supplier: one price, once (一次报出不得更改, GPL Art. 40)."""
