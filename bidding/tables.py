"""Piccolo tables of sealed bidding.

The platform stores only ciphertext, public keys, encrypted shares and hashes before the
opening (ETM Art. 30); what the opening produces is the opening record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from procurement.tables import Lot, Organisation, User


class CustodianKey(Table, tablename="custodian_key"):
    """A key custodian's registered public key (the private key never reaches us)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    user = ForeignKey(references=User, unique=True)
    public_key = Varchar(length=130)
    registered_at = Timestamptz()


class OpeningKey(Table, tablename="opening_key"):
    """A lot's opening public key, and for platform-sealed lots the wrapped private key."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, unique=True)
    mode = Varchar(length=20)
    public_key = Varchar(length=130)
    fingerprint = Varchar(length=64)
    threshold = Integer(default=0)
    custodians = Integer(default=0)
    wrapped_private_key = Text(default="")
    created_at = Timestamptz()
    opened_at = Timestamptz(null=True, default=None)


class KeyShareRecord(Table, tablename="key_share"):
    """One custodian's share, encrypted to its key; the released share after the opening."""

    if TYPE_CHECKING:
        id: Any

    opening_key = ForeignKey(references=OpeningKey, index=True)
    custodian = ForeignKey(references=User)
    share_index = Integer()
    encrypted_share = Text()
    released_share = Text(default="")
    released_at = Timestamptz(null=True, default=None)


class Bid(Table, tablename="bid"):
    """A supplier's submission for a lot; only its latest submitted version counts."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    bidder = ForeignKey(references=Organisation, index=True)
    submitted_by = ForeignKey(references=User)
    status = Varchar(length=20, default="uploading", index=True)
    created_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)
    sequence = Integer(null=True, default=None)
    receipt = Text(default="")


class BidFile(Table, tablename="bid_file"):
    """One sealed file of a bid (the price declaration is the file of kind "price")."""

    if TYPE_CHECKING:
        id: Any

    bid = ForeignKey(references=Bid, index=True)
    kind = Varchar(length=40)
    label = Varchar(length=200, default="")
    declared_size = BigInt()
    upload_id = Varchar(length=64, default="")
    object_key = Varchar(length=300, default="")
    sha256 = Varchar(length=64, default="")
    size = BigInt(default=0)


class BidPart(Table, tablename="bid_part"):
    """One received part of a sealed file (resumable upload)."""

    if TYPE_CHECKING:
        id: Any

    file = ForeignKey(references=BidFile, index=True)
    number = Integer()
    size = BigInt()
    sha256 = Varchar(length=64)
    received_at = Timestamptz()


class OpeningRecord(Table, tablename="opening_record"):
    """The opening (开标) result of one bid: opened with its declared price, or invalid."""

    if TYPE_CHECKING:
        id: Any

    lot = ForeignKey(references=Lot, index=True)
    bid = ForeignKey(references=Bid, unique=True)
    bidder = ForeignKey(references=Organisation)
    submitted_at = Timestamptz()
    outcome = Varchar(length=20)
    # an invalid bid's InvalidBidCause code, shown in the page's language; reason is the detail
    cause = Varchar(length=30, default="")
    reason = Text(default="")
    declared_price_fen = BigInt(null=True, default=None)
    declaration = Text(default="")
    opened_at = Timestamptz()
    # an invalid bid is deemed revoked (撤销) when the bidder caused the failure, withdrawn
    # (撤回) when anything else did: a damaged or lost stored copy (RULES §3, ETM Art. 31)
    deemed = Varchar(length=20, default="")
