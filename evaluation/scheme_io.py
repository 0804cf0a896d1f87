"""A scoring scheme to and from its stored JSON, and from the purchaser's form lines.

Pure: every shape problem (a missing field, a number that is not one, an unknown group) is
collected with the rule problems :class:`~evaluation.scheme.ScoringScheme` finds, and all are
reported at once in one :class:`SchemeError` (MOF87 Art. 55: the purchaser fixes the scheme
in one pass).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from evaluation.exceptions import SchemeError
from evaluation.scheme import (
    CriterionGroup,
    EvaluationMethod,
    PassFailCriterion,
    ScoredCriterion,
    ScoringScheme,
    ThirdTieBreak,
)
from procurement.lifecycle import ProjectCategory

_ZERO = Decimal(0)
E = TypeVar("E", EvaluationMethod, CriterionGroup, ThirdTieBreak)


def _decimal(value: object, what: str, problems: list[str]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        problems.append(f"{what} must be a number, not {value!r}")
        return _ZERO
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        problems.append(f"{what} must be a number, not {value!r}")
        return _ZERO
    if not number.is_finite():
        problems.append(f"{what} must be a number, not {value!r}")
        return _ZERO
    return number


def _rate(value: object, what: str, problems: list[str]) -> Decimal:
    """A deduction rate given in per cent ("10") and kept as a fraction (0.10)."""
    return _decimal(value if value not in (None, "") else "0", what, problems) / 100


def _choice(kind: type[E], value: object, what: str, problems: list[str], default: E) -> E:
    try:
        return kind(str(value))
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        problems.append(f"{what} {value!r} is not one of: {allowed}")
        return default


def _pass_fail(items: object, what: str, problems: list[str]) -> tuple[PassFailCriterion, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        problems.append(f"{what} must be a list")
        return ()
    found = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            problems.append(f"{what} {n} needs an id")
            continue
        found.append(PassFailCriterion(item["id"].strip(), str(item.get("description", ""))))
    return tuple(found)


def _scored(items: object, problems: list[str]) -> tuple[ScoredCriterion, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        problems.append("criteria must be a list")
        return ()
    found = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            problems.append(f"scored criterion {n} needs an id")
            continue
        cid = item["id"].strip()
        group = _choice(
            CriterionGroup,
            item.get("group"),
            f"criterion {cid}: group",
            problems,
            CriterionGroup.TECHNICAL,
        )
        points = _decimal(item.get("max_points"), f"criterion {cid}: maximum points", problems)
        found.append(
            ScoredCriterion(
                cid,
                group,
                points,
                objective=bool(item.get("objective", False)),
                description=str(item.get("description", "")),
            )
        )
    return tuple(found)


def scheme_from_json(data: object, category: ProjectCategory) -> ScoringScheme:
    """Build and validate a scheme from its JSON form; deduction rates are in per cent.

    Raises:
        SchemeError: listing every problem of shape and of rule together.
    """
    if not isinstance(data, Mapping):
        raise SchemeError(["the scheme must be a JSON object"])
    problems: list[str] = []
    method = _choice(
        EvaluationMethod,
        data.get("method"),
        "method",
        problems,
        EvaluationMethod.COMPREHENSIVE_SCORING,
    )
    tie = _choice(
        ThirdTieBreak,
        data.get("third_tie_break", "none"),
        "third tie-break",
        problems,
        ThirdTieBreak.NONE,
    )
    fields: dict[str, Any] = {
        "method": method,
        "category": category,
        "criteria": _scored(data.get("criteria"), problems),
        "qualification": _pass_fail(data.get("qualification"), "qualification criterion", problems),
        "compliance": _pass_fail(data.get("compliance"), "compliance criterion", problems),
        "small_or_micro_deduction": _rate(
            data.get("small_or_micro_deduction"), "small/micro deduction", problems
        ),
        "consortium_deduction": _rate(
            data.get("consortium_deduction"), "consortium deduction", problems
        ),
        "third_tie_break": tie,
        "sme_reserved": bool(data.get("sme_reserved", False)),
    }
    try:
        scheme = ScoringScheme(**fields)
    except SchemeError as exc:
        raise SchemeError([*problems, *exc.problems]) from None
    if problems:
        raise SchemeError(problems)
    return scheme


def scheme_to_json(scheme: ScoringScheme) -> dict[str, Any]:
    """The stored form: exact decimal strings, deduction rates in per cent."""
    return {
        "method": scheme.method.value,
        "third_tie_break": scheme.third_tie_break.value,
        "sme_reserved": scheme.sme_reserved,
        "small_or_micro_deduction": _percent(scheme.small_or_micro_deduction),
        "consortium_deduction": _percent(scheme.consortium_deduction),
        "qualification": [{"id": c.id, "description": c.description} for c in scheme.qualification],
        "compliance": [{"id": c.id, "description": c.description} for c in scheme.compliance],
        "criteria": [
            {
                "id": c.id,
                "group": c.group.value,
                "max_points": str(c.max_points),
                "objective": c.objective,
                "description": c.description,
            }
            for c in scheme.criteria
        ],
    }


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}"


def pass_fail_lines(text: str) -> list[dict[str, str]]:
    """Form lines ``ID | description`` (one per line; blank lines ignored)."""
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        cid, _, description = line.partition("|")
        items.append({"id": cid.strip(), "description": description.strip()})
    return items


def criteria_lines(text: str) -> list[dict[str, Any]]:
    """Form lines ``ID | group | max points | description [| objective]``."""
    items: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (5 - len(parts))
        items.append(
            {
                "id": parts[0],
                "group": parts[1],
                "max_points": parts[2],
                "description": parts[3],
                "objective": parts[4].lower() in {"objective", "客观", "yes", "y"},
            }
        )
    return items


def scheme_lines(scheme_json: Mapping[str, Any]) -> dict[str, str]:
    """The form's text areas for a stored scheme (the inverse of the line parsers)."""

    def criterion(c: Mapping[str, Any]) -> str:
        line = f"{c['id']} | {c['group']} | {c['max_points']} | {c.get('description', '')}"
        return line + (" | objective" if c.get("objective") else "")

    return {
        "qualification": "\n".join(
            f"{c['id']} | {c.get('description', '')}" for c in scheme_json.get("qualification", [])
        ),
        "compliance": "\n".join(
            f"{c['id']} | {c.get('description', '')}" for c in scheme_json.get("compliance", [])
        ),
        "criteria": "\n".join(criterion(c) for c in scheme_json.get("criteria", [])),
    }
