"""Piccolo table of signed contracts (采购合同), kept apart from the core tables' module.

A contract follows an award: GPL Art. 46 and TBL Art. 46 give the purchaser 30 days from the
award notice to sign it. The amount is exact integer fen (RULES conventions).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.columns import BigInt, Date, ForeignKey, Timestamptz
from piccolo.table import Table

from procurement.tables import Lot, Organisation, User


class Contract(Table, tablename="contract"):
    """The contract a purchasing unit signed with the winner of one awarded lot."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    lot = ForeignKey(references=Lot, unique=True)
    supplier = ForeignKey(references=Organisation)
    amount_fen = BigInt()
    signed_on = Date()
    recorded_by = ForeignKey(references=User)
    recorded_at = Timestamptz()
