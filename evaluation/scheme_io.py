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

from evaluation.exceptions import SchemeError, SchemeProblem
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


def _number(value: object) -> Decimal | None:
    """A finite number from a string, an int or a Decimal; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _rate(value: object) -> Decimal | None:
    """A deduction rate given in per cent ("10") and kept as a fraction (0.10); blank is 0."""
    number = _number(value if value not in (None, "") else "0")
    return None if number is None else number / 100


def _choice(kind: type[E], value: object) -> E | None:
    try:
        return kind(str(value))
    except ValueError:
        return None


def _allowed(kind: type[E]) -> str:
    return ", ".join(m.value for m in kind)


def _pass_fail(
    items: object, problems: list[SchemeProblem], *, qualification: bool
) -> tuple[PassFailCriterion, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        problems.append(
            SchemeProblem("qualification criterion must be a list")
            if qualification
            else SchemeProblem("compliance criterion must be a list")
        )
        return ()
    found = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            problems.append(
                SchemeProblem("qualification criterion {n} needs an id", n=n)
                if qualification
                else SchemeProblem("compliance criterion {n} needs an id", n=n)
            )
            continue
        found.append(PassFailCriterion(item["id"].strip(), str(item.get("description", ""))))
    return tuple(found)


def _scored(items: object, problems: list[SchemeProblem]) -> tuple[ScoredCriterion, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        problems.append(SchemeProblem("criteria must be a list"))
        return ()
    found = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            problems.append(SchemeProblem("scored criterion {n} needs an id", n=n))
            continue
        cid = item["id"].strip()
        group = _choice(CriterionGroup, item.get("group"))
        if group is None:
            problems.append(
                SchemeProblem(
                    "criterion {criterion}: group {value!r} is not one of: {allowed}",
                    criterion=cid,
                    value=item.get("group"),
                    allowed=_allowed(CriterionGroup),
                )
            )
            group = CriterionGroup.TECHNICAL
        points = _number(item.get("max_points"))
        if points is None:
            problems.append(
                SchemeProblem(
                    "criterion {criterion}: maximum points must be a number, not {value!r}",
                    criterion=cid,
                    value=item.get("max_points"),
                )
            )
            points = _ZERO
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
        raise SchemeError([SchemeProblem("the scheme must be a JSON object")])
    problems: list[SchemeProblem] = []
    method = _choice(EvaluationMethod, data.get("method"))
    if method is None:
        problems.append(
            SchemeProblem(
                "method {value!r} is not one of: {allowed}",
                value=data.get("method"),
                allowed=_allowed(EvaluationMethod),
            )
        )
        method = EvaluationMethod.COMPREHENSIVE_SCORING
    tie = _choice(ThirdTieBreak, data.get("third_tie_break", "none"))
    if tie is None:
        problems.append(
            SchemeProblem(
                "third tie-break {value!r} is not one of: {allowed}",
                value=data.get("third_tie_break", "none"),
                allowed=_allowed(ThirdTieBreak),
            )
        )
        tie = ThirdTieBreak.NONE
    criteria = _scored(data.get("criteria"), problems)
    qualification = _pass_fail(data.get("qualification"), problems, qualification=True)
    compliance = _pass_fail(data.get("compliance"), problems, qualification=False)
    small_or_micro = _rate(data.get("small_or_micro_deduction"))
    if small_or_micro is None:
        problems.append(
            SchemeProblem(
                "small/micro deduction must be a number, not {value!r}",
                value=data.get("small_or_micro_deduction"),
            )
        )
    consortium = _rate(data.get("consortium_deduction"))
    if consortium is None:
        problems.append(
            SchemeProblem(
                "consortium deduction must be a number, not {value!r}",
                value=data.get("consortium_deduction"),
            )
        )
    fields: dict[str, Any] = {
        "method": method,
        "category": category,
        "criteria": criteria,
        "qualification": qualification,
        "compliance": compliance,
        "small_or_micro_deduction": _ZERO if small_or_micro is None else small_or_micro,
        "consortium_deduction": _ZERO if consortium is None else consortium,
        "third_tie_break": tie,
        "sme_reserved": bool(data.get("sme_reserved", False)),
    }
    try:
        scheme = ScoringScheme(**fields)
    except SchemeError as exc:
        raise SchemeError([*problems, *exc.details]) from None
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
