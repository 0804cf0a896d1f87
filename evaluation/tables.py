"""Piccolo tables of the ``evaluation`` package.

Scores are kept as exact decimal strings (never floats) so the report reproduces every figure
the experts entered (RULES §5.1: rounding only at the factor means).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.table import Table

from procurement.tables import Lot, Organisation, User


class LotScheme(Table, tablename="evaluation_scheme"):
    """A lot's scoring scheme (评分办法) as JSON, fixed at publication (GPL-R Art. 34)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    lot = ForeignKey(references=Lot, unique=True)
    scheme = Text()
    updated_at = Timestamptz()


class CommitteeSeat(Table, tablename="committee_seat"):
    """A seat on a lot's evaluation committee (评标委员会) and that member's progress."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    user = ForeignKey(references=User, index=True)
    expert_id = Varchar(length=60, default="")
    name = Varchar(length=100, default="")
    specialty = Varchar(length=100, default="")
    leader = Boolean(default=False)
    seated_at = Timestamptz()
    verdicts_submitted_at = Timestamptz(null=True, default=None)
    scores_submitted_at = Timestamptz(null=True, default=None)
    signed_at = Timestamptz(null=True, default=None)


class Verdict(Table, tablename="evaluation_verdict"):
    """One member's pass/fail verdict on one qualification or compliance criterion of a bid."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    seat = ForeignKey(references=CommitteeSeat, index=True)
    bidder = ForeignKey(references=Organisation)
    criterion = Varchar(length=40)
    passed = Boolean()
    reason = Text(default="")
    recorded_at = Timestamptz()


class Score(Table, tablename="evaluation_score"):
    """One member's score of one criterion of a bid; final once the member submits."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    seat = ForeignKey(references=CommitteeSeat, index=True)
    bidder = ForeignKey(references=Organisation)
    criterion = Varchar(length=40)
    points = Varchar(length=20)
    comment = Text(default="")
    recorded_at = Timestamptz()


class Correction(Table, tablename="evaluation_correction"):
    """A submitted score changed by the leader for a ground MOF87 Art. 64 allows."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    seat = ForeignKey(references=CommitteeSeat)
    bidder = ForeignKey(references=Organisation)
    criterion = Varchar(length=40)
    old_points = Varchar(length=20)
    new_points = Varchar(length=20)
    reason = Varchar(length=40)
    note = Text()
    corrected_by = ForeignKey(references=User)
    corrected_at = Timestamptz()


class Review(Table, tablename="evaluation_review"):
    """A flagged item (deviation or abnormally low price) and how the committee resolved it."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    kind = Varchar(length=20)
    key = Varchar(length=200)
    detail = Text(default="")
    # the detail as a ReviewNote (JSON: template and values), so each reader gets its language
    note = Text(default="")
    explanation = Text(default="")
    resolution = Text(default="")
    resolved_by = ForeignKey(references=User, null=True)
    resolved_at = Timestamptz(null=True, default=None)


class Outcome(Table, tablename="evaluation_outcome"):
    """The lot's evaluation: stage, the computed result, the report and the award decision."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, unique=True)
    stage = Varchar(length=20)
    result = Text(default="{}")
    computed_at = Timestamptz()
    signed_at = Timestamptz(null=True, default=None)
    award_deviation = Text(default="")
    decided_at = Timestamptz(null=True, default=None)
