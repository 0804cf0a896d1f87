"""Piccolo tables of the ``expert_pool`` package: the registry and the draw records.

The registry holds what the pure screening needs (RULES §4, ``expert_pool.experts``); the
draw tables hold the commitment, the frozen snapshot and every seat's fate, so that the
draw can be re-run by anyone once the seed is revealed (ARCHITECTURE §4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from procurement.tables import Lot, Organisation, User


class Expert(Table, tablename="expert"):
    """One registered evaluation expert, linked to the account they log in with.

    Specialty codes are stored comma-joined and sorted (``A0101,B02``); the identity number
    is stored in full and shown masked everywhere but the administrator's pages.
    """

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    user = ForeignKey(references=User, null=True, unique=True)
    name = Varchar(length=100)
    identity_number = Varchar(length=18, unique=True)
    employer = ForeignKey(references=Organisation, null=True)
    specialties = Varchar(length=300)
    title = Varchar(length=30)
    years_of_experience = Integer(default=0)
    phone = Varchar(length=40, default="")
    email = Varchar(length=200, default="")
    status = Varchar(length=20, default="active", index=True)
    status_reason = Varchar(length=300, default="")
    trained_on = Date(null=True, default=None)
    training_course = Varchar(length=200, default="")
    certificate_number = Varchar(length=60, default="")
    certified_on = Date(null=True, default=None)
    certificate_expires_on = Date(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ExpertEmployment(Table, tablename="expert_employment"):
    """A current or past job: former employees of a bidder step aside 3 years (GPL-R Art. 9)."""

    if TYPE_CHECKING:
        id: Any

    expert = ForeignKey(references=Expert, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    started_on = Date()
    ended_on = Date(null=True, default=None)


class ExpertUnavailableDate(Table, tablename="expert_unavailable_date"):
    """A day the expert declared they cannot evaluate."""

    if TYPE_CHECKING:
        id: Any

    expert = ForeignKey(references=Expert, index=True)
    day = Date()


class ExpertConflict(Table, tablename="expert_conflict"):
    """An organisation the expert declared a conflict of interest with (GPL-R Art. 9)."""

    if TYPE_CHECKING:
        id: Any

    expert = ForeignKey(references=Expert, index=True)
    organisation = ForeignKey(references=Organisation, index=True)
    note = Varchar(length=300, default="")
    declared_at = Timestamptz()


class ExpertDraw(Table, tablename="expert_draw"):
    """One draw for a lot: the request, the commitment, the snapshot, the secret seed.

    ``seed_hex`` stays secret until ``revealed_at`` (the lot concluded); a superseded draw
    (a second draw with a recorded reason) keeps its row, its seats and its record.
    """

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    number = Integer(default=1)
    status = Varchar(length=20, default="drawing", index=True)
    request = Text(default="{}")
    evaluation_date = Date()
    reason = Text(default="")
    commitment = Varchar(length=64)
    snapshot = Text()
    snapshot_hash = Varchar(length=64)
    seed_hex = Varchar(length=64)
    exclusions = Text(default="{}")
    pool_size = Integer(default=0)
    eligible_size = Integer(default=0)
    requested_by = ForeignKey(references=User, null=True)
    committed_at = Timestamptz()
    drawn_at = Timestamptz(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)
    exhausted_at = Timestamptz(null=True, default=None)
    revealed_at = Timestamptz(null=True, default=None)


class ExpertSeat(Table, tablename="expert_seat"):
    """An expert's place in a draw: member or reserve, and how they answered.

    ``position`` orders members and reserves as the draw took them; ``token_hash`` is the
    SHA-256 of the one-time confirmation link's token (the token itself is only sent).
    """

    if TYPE_CHECKING:
        id: Any

    draw = ForeignKey(references=ExpertDraw, index=True)
    expert = ForeignKey(references=Expert, index=True)
    specialty = Varchar(length=20)
    role = Varchar(length=20)
    position = Integer()
    status = Varchar(length=20, default="waiting", index=True)
    notified_at = Timestamptz(null=True, default=None)
    respond_by = Timestamptz(null=True, default=None)
    responded_at = Timestamptz(null=True, default=None)
    token_hash = Varchar(length=64, default="")
    token_used_at = Timestamptz(null=True, default=None)
    decline_order = Integer(null=True, default=None)
    replaced_at = Timestamptz(null=True, default=None)


class ExpertRating(Table, tablename="expert_rating"):
    """The purchaser's or supervisor's rating of an expert's conduct on one lot (GPL-R Art. 63).

    Kept for good, also when it leads to a suspension, so the record of bad conduct remains.
    """

    if TYPE_CHECKING:
        id: Any

    expert = ForeignKey(references=Expert, index=True)
    lot = ForeignKey(references=Lot, index=True)
    rated_by = ForeignKey(references=User)
    rating = Varchar(length=20)
    violation = Boolean(default=False)
    note = Text(default="")
    rated_at = Timestamptz()
