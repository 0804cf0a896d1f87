"""Piccolo tables of the platform core.

Money is stored exactly as integer fen (``*_fen`` columns, RULES conventions); times are
timezone-aware. Enumerated values are stored as their ``StrEnum`` value strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Organisation(Table, tablename="organisation"):
    """A purchasing unit (采购人), agency (代理机构) or supplier (供应商).

    Suppliers are identified by their unified social credit code (GB 32100) and need an
    admin's approval after self-registration.
    """

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    name = Varchar(length=200)
    name_en = Varchar(length=200, default="")
    kind = Varchar(length=20, index=True)
    credit_code = Varchar(length=18, unique=True)
    enterprise_size = Varchar(length=10, default="")
    address = Varchar(length=300, default="")
    contact_person = Varchar(length=100, default="")
    contact_phone = Varchar(length=40, default="")
    categories = Varchar(length=60, default="")
    status = Varchar(length=20, default="approved", index=True)
    created_at = Timestamptz()


class User(Table, tablename="app_user"):
    """A person who logs in; one role each, as the separation of duties requires."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    username = Varchar(length=60, unique=True)
    password_hash = Varchar(length=200)
    display_name = Varchar(length=100)
    email = Varchar(length=200, default="")
    phone = Varchar(length=40, default="")
    role = Varchar(length=20, index=True)
    organisation = ForeignKey(references=Organisation, null=True)
    status = Varchar(length=20, default="active", index=True)
    language = Varchar(length=10, default="zh")
    created_at = Timestamptz()
    last_login_at = Timestamptz(null=True, default=None)


class Project(Table, tablename="project"):
    """A procurement project (采购项目) of one purchasing unit, with its timeline."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    code = Varchar(length=40, unique=True)
    title = Varchar(length=300)
    title_en = Varchar(length=300, default="")
    description = Text(default="")
    description_en = Text(default="")
    purchaser = ForeignKey(references=Organisation, index=True)
    agency = ForeignKey(references=Organisation, null=True)
    category = Varchar(length=20, index=True)
    method = Varchar(length=40, index=True)
    budget_fen = BigInt()
    reserve_price_fen = BigInt(null=True, default=None)
    ceiling_price_fen = BigInt(null=True, default=None)
    documents_from = Timestamptz()
    documents_until = Timestamptz()
    clarification_deadline = Timestamptz(null=True, default=None)
    bid_deadline = Timestamptz(index=True)
    opening_time = Timestamptz()
    created_by = ForeignKey(references=User)
    created_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)


class Lot(Table, tablename="lot"):
    """A lot (标段/包) of a project: the unit that is bid on, opened, evaluated and awarded."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    project = ForeignKey(references=Project, index=True)
    number = Integer()
    title = Varchar(length=300)
    title_en = Varchar(length=300, default="")
    budget_fen = BigInt()
    reserve_price_fen = BigInt(null=True, default=None)
    ceiling_price_fen = BigInt(null=True, default=None)
    status = Varchar(length=20, default="draft", index=True)
    failure_reason = Varchar(length=30, default="")
    custody_mode = Varchar(length=20, default="custodians")
    max_bid_mib = Integer(default=1024)
    award_amount_fen = BigInt(null=True, default=None)
    awarded_supplier = ForeignKey(references=Organisation, null=True)
    contract_amount_fen = BigInt(null=True, default=None)
    awarded_at = Timestamptz(null=True, default=None)
    concluded_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()


class Notice(Table, tablename="notice"):
    """A public notice (公告): tender, change/clarification, award, failure or cancellation."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    project = ForeignKey(references=Project, index=True)
    lot = ForeignKey(references=Lot, null=True)
    kind = Varchar(length=20, index=True)
    title = Varchar(length=300)
    title_en = Varchar(length=300, default="")
    body = Text(default="")
    body_en = Text(default="")
    published_at = Timestamptz(index=True, index_method=IndexMethod.btree)


class TenderDocument(Table, tablename="tender_document"):
    """A file of the tender documents (招标文件), stored in the object store."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    project = ForeignKey(references=Project, index=True)
    filename = Varchar(length=255)
    object_key = Varchar(length=500)
    size = BigInt()
    sha256 = Varchar(length=64)
    content_type = Varchar(length=120, default="application/octet-stream")
    uploaded_by = ForeignKey(references=User)
    uploaded_at = Timestamptz()


class DocumentDownload(Table, tablename="document_download"):
    """Who downloaded which tender document; secret until the bid deadline (seed 004)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    document = ForeignKey(references=TenderDocument, index=True)
    user = ForeignKey(references=User)
    organisation = ForeignKey(references=Organisation, null=True)
    downloaded_at = Timestamptz()


class Question(Table, tablename="question"):
    """A supplier's question on the tender documents; the asker stays anonymous to others."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    project = ForeignKey(references=Project, index=True)
    asked_by = ForeignKey(references=User)
    text = Text()
    asked_at = Timestamptz()
    answer = Text(default="")
    answered_at = Timestamptz(null=True, default=None)
    clarification = ForeignKey(references=Notice, null=True)


class AuditEntry(Table, tablename="audit_entry"):
    """One link of the append-only, hash-chained audit log (ARCHITECTURE §7)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    seq = BigInt(unique=True)
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=100, default="")
    action = Varchar(length=60, index=True)
    subject_type = Varchar(length=40, default="")
    subject_id = Varchar(length=60, default="")
    payload = Text(default="{}")
    prev_hash = Varchar(length=64)
    entry_hash = Varchar(length=64)


class HolidayOverride(Table, tablename="holiday_override"):
    """An admin's correction of the working-day calendar for a date (ARCHITECTURE §2)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    day = Date(unique=True)
    is_working_day = Boolean()
    note = Varchar(length=200, default="")


class Notification(Table, tablename="notification"):
    """A message to a user: shown in the workspace and sent by the notifier (outbox)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    user = ForeignKey(references=User, index=True)
    kind = Varchar(length=40)
    title = Varchar(length=300)
    body = Text(default="")
    link = Varchar(length=300, default="")
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)
    channel = Varchar(length=20, default="web")
    sent_at = Timestamptz(null=True, default=None)
    # unique through an index of the migration (SQLite cannot add a UNIQUE column)
    dedupe_key = Varchar(length=200, null=True, default=None)
    attempts = Integer(default=0)
    last_error = Varchar(length=300, default="")
    # a delivery run's lease on the message, so two overlapping runs never both send it
    claimed_until = Timestamptz(null=True, default=None)


class FrameworkAgreement(Table, tablename="framework_agreement"):
    """A framework agreement (协议供货/定点): admitted suppliers of a category for a period.

    Stage 1 of framework procurement admits the suppliers; purchasers then run quick price
    inquiries among them (RULES §1.1, MOF order 110).
    """

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    name = Varchar(length=200)
    category = Varchar(length=100, index=True)
    valid_from = Date()
    valid_until = Date()
    created_by = ForeignKey(references=User)
    created_at = Timestamptz()


class FrameworkSupplier(Table, tablename="framework_supplier"):
    """A supplier admitted to a framework agreement."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    agreement = ForeignKey(references=FrameworkAgreement, index=True)
    supplier = ForeignKey(references=Organisation, index=True)


class Inquiry(Table, tablename="inquiry"):
    """A price inquiry (询价) request: the terms of a one-lot, platform-sealed project.

    The project and lot carry budget, deadline and result; this row carries what only an
    inquiry has (RULES §7): delivery terms, requirements, how suppliers were invited, and
    after a failure the purchaser's recorded choice (re-run or change method).
    """

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    project = ForeignKey(references=Project, unique=True)
    lot = ForeignKey(references=Lot, unique=True)
    delivery_place = Varchar(length=300)
    delivery_time = Varchar(length=200)
    requirements = Text(default="")
    evaluation_rule = Varchar(length=40, default="lowest_compliant_price")
    invitation_mode = Varchar(length=20)
    framework = ForeignKey(references=FrameworkAgreement, null=True)
    follow_up = Varchar(length=20, default="")
    follow_up_note = Text(default="")
    follow_up_at = Timestamptz(null=True, default=None)
    # small/micro price deduction in percent, for ranking only (RULES §6); "0" for none
    sme_deduction_percent = Varchar(length=10, default="0")


class InquiryItem(Table, tablename="inquiry_item"):
    """One item of an inquiry; the quantity is an exact decimal kept as text."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    inquiry = ForeignKey(references=Inquiry, index=True)
    number = Integer()
    name = Varchar(length=200)
    specification = Text(default="")
    quantity = Varchar(length=30)
    unit = Varchar(length=20)
    reference_brand = Varchar(length=200, default="")


class InquiryInvitation(Table, tablename="inquiry_invitation"):
    """A supplier invited to quote (GPL Art. 40: at least three)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    inquiry = ForeignKey(references=Inquiry, index=True)
    supplier = ForeignKey(references=Organisation, index=True)
    invited_at = Timestamptz()


class QuoteVerdict(Table, tablename="quote_verdict"):
    """The purchaser's compliance verdict on one opened quote, with its reason (GPL Art. 40)."""

    if TYPE_CHECKING:  # piccolo adds it: a Column on the class, an int on rows
        id: Any

    inquiry = ForeignKey(references=Inquiry, index=True)
    supplier = ForeignKey(references=Organisation)
    compliant = Boolean()
    reason = Text(default="")
    decided_by = ForeignKey(references=User)
    decided_at = Timestamptz()
