"""The expert registry 专家库: create, edit, suspend, import, self-service (RULES §4).

Every input is parsed into the pure :class:`~expert_pool.experts.Expert` before anything is
written, so the registry holds only experts the draw can screen: a valid identity number
(GB 11643-1999), known specialty codes, a title from the list, a certificate that does not
expire before it is issued. Bulk imports are all-or-nothing unless the administrator chooses
to import the valid rows; either way every bad row is reported with its line and reason.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from expert_pool.experts import (
    Certification,
    Contact,
    Employment,
    ExpertStatus,
    ProfessionalTitle,
    Training,
)
from expert_pool.experts import Expert as PureExpert
from expert_pool.identity import mask_identity_number
from expert_pool.specialties import specialty
from expert_pool.tables import (
    Expert,
    ExpertConflict,
    ExpertEmployment,
    ExpertUnavailableDate,
)
from procurement import audit
from procurement.accounts import create_user
from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.db import one_page, transaction
from procurement.exceptions import Conflict, Forbidden, NotFound, ValidationError, ZhaocaiError
from procurement.numbers import is_whole_number, parse_whole
from procurement.roles import Actor, Role
from procurement.tables import Organisation, User

IMPORT_COLUMNS = (
    "name",
    "identity_number",
    "specialties",
    "title",
    "years_of_experience",
    "phone",
    "email",
    "employer_credit_code",
    "trained_on",
    "training_course",
    "certificate_number",
    "certified_on",
    "certificate_expires_on",
)
"""Columns of an import file, in this order in the header row (docs/experts.md)."""
REQUIRED_COLUMNS = frozenset(
    {"name", "identity_number", "specialties", "title", "years_of_experience"}
)
MAX_IMPORT_ROWS = 20_000
"""More rows than a centre's whole pool is a wrong file, not an import."""
MAX_IMPORT_BYTES = 10 * 1024 * 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^[0-9+\- ]{5,20}$")


@dataclass(frozen=True, slots=True)
class ExpertInput:
    """One expert's fields as validated from a form or an import row."""

    name: str
    identity_number: str
    specialties: tuple[str, ...]
    title: ProfessionalTitle
    years_of_experience: int
    phone: str = ""
    email: str = ""
    employer_id: int | None = None
    trained_on: date | None = None
    training_course: str = ""
    certificate_number: str = ""
    certified_on: date | None = None
    certificate_expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """A refused import row: its line in the file (header is line 1) and why.

    ``error`` is the refusal itself, kept so that a page can show it in its language.
    """

    line: int
    message: str
    error: ZhaocaiError | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, line: int, error: ZhaocaiError) -> RowError:
        """The row refused by ``error``; its message is the English one."""
        return cls(line, str(error), error.with_traceback(None))

    def localized(self, gettext: Callable[[str], str]) -> str:
        """Why the row was refused, in the language of ``gettext``."""
        return self.message if self.error is None else self.error.localized(gettext)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did: rows read, experts created, and every refused row."""

    rows: int
    imported: int
    errors: tuple[RowError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Whether every row was valid."""
        return not self.errors


class ImportRefused(ValidationError):
    """An all-or-nothing import with bad rows: nothing was written; the report says why."""

    def __init__(self, report: ImportReport) -> None:
        lines = "; ".join(f"line {e.line}: {e.message}" for e in report.errors[:20])
        more = len(report.errors) - 20
        if more > 0:
            super().__init__(
                "{invalid} of {rows} rows are invalid, nothing was imported "
                "(choose 'import valid rows' to import the others): {lines}; and {more} more",
                field="file",
                invalid=len(report.errors),
                rows=report.rows,
                lines=lines,
                more=more,
            )
        else:
            super().__init__(
                "{invalid} of {rows} rows are invalid, nothing was imported "
                "(choose 'import valid rows' to import the others): {lines}",
                field="file",
                invalid=len(report.errors),
                rows=report.rows,
                lines=lines,
            )
        self.report = report


_DateColumn = Literal["trained_on", "certified_on", "certificate_expires_on"]


def _date(value: str, name: _DateColumn) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _not_a_date(name, text) from None


def _not_a_date(name: _DateColumn, text: str) -> ValidationError:
    if name == "trained_on":
        return ValidationError(
            "trained_on must be a date like 2026-03-01, not {text!r}", text=text, field=name
        )
    if name == "certified_on":
        return ValidationError(
            "certified_on must be a date like 2026-03-01, not {text!r}", text=text, field=name
        )
    return ValidationError(
        "certificate_expires_on must be a date like 2026-03-01, not {text!r}",
        text=text,
        field=name,
    )


def parse_expert_fields(
    fields: Mapping[str, Any], *, organisations_by_code: Mapping[str, int] | None = None
) -> ExpertInput:
    """Validate one expert's text fields (form or import row) into an :class:`ExpertInput`.

    Raises:
        ValidationError: the first thing wrong, with the field it is in.
    """

    def text(name: str) -> str:
        value = fields.get(name)
        return "" if value is None else str(value).strip()

    name = text("name")
    if not name or len(name) > 100:
        raise ValidationError("name is required (at most 100 characters)", field="name")
    codes = tuple(c for c in re.split(r"[,;，；\s]+", text("specialties").upper()) if c)
    if not codes:
        raise ValidationError("at least one specialty code is required", field="specialties")
    for code in codes:
        specialty(code)
    try:
        title = ProfessionalTitle(text("title").lower())
    except ValueError:
        raise ValidationError(
            "title must be one of {titles}",
            titles=", ".join(t.value for t in ProfessionalTitle),
            field="title",
        ) from None
    years_text = text("years_of_experience")
    if not is_whole_number(years_text) or int(years_text) > 80:
        raise ValidationError(
            "years_of_experience must be a whole number from 0 to 80", field="years_of_experience"
        )
    phone, email = text("phone"), text("email")
    if phone and not _PHONE.match(phone):
        raise ValidationError("phone {phone!r} is not a phone number", phone=phone, field="phone")
    if email and not _EMAIL.match(email):
        raise ValidationError(
            "email {email!r} is not an e-mail address", email=email, field="email"
        )
    employer_id: int | None = None
    employer_code = text("employer_credit_code").upper()
    if employer_code:
        if organisations_by_code is None or employer_code not in organisations_by_code:
            raise ValidationError(
                "no registered organisation has the credit code {credit_code}",
                credit_code=employer_code,
                field="employer_credit_code",
            )
        employer_id = organisations_by_code[employer_code]
    elif text("employer_id"):
        employer_id = parse_whole(text("employer_id"), "employer_id", minimum=1)
    data = ExpertInput(
        name=name,
        identity_number=text("identity_number"),
        specialties=codes,
        title=title,
        years_of_experience=int(years_text),
        phone=phone,
        email=email,
        employer_id=employer_id,
        trained_on=_date(text("trained_on"), "trained_on"),
        training_course=text("training_course")[:200],
        certificate_number=text("certificate_number")[:60],
        certified_on=_date(text("certified_on"), "certified_on"),
        certificate_expires_on=_date(text("certificate_expires_on"), "certificate_expires_on"),
    )
    if bool(data.certified_on) != bool(data.certificate_expires_on):
        raise ValidationError(
            "a certificate needs both its issue date and its expiry date",
            field="certificate_expires_on",
        )
    if (
        data.certified_on
        and data.certificate_expires_on
        and data.certificate_expires_on < data.certified_on
    ):
        raise ValidationError(
            "certificate {number} expires {expires_on}, before it was issued {issued_on}",
            number=data.certificate_number or "-",
            expires_on=data.certificate_expires_on.isoformat(),
            issued_on=data.certified_on.isoformat(),
            field="certificate_expires_on",
        )
    try:
        pure = to_pure(data, expert_id=1)
    except ZhaocaiError:
        raise
    except ValueError as error:
        raise ValidationError(str(error), field="certificate_expires_on") from None
    return replace(data, identity_number=pure.identity_number)


def to_pure(
    data: ExpertInput,
    *,
    expert_id: int,
    status: ExpertStatus = ExpertStatus.ACTIVE,
    employments: Iterable[Employment] = (),
    unavailable: Iterable[date] = (),
    conflicts: Iterable[int] = (),
) -> PureExpert:
    """The pure expert the screening works on (validates identity number and codes)."""
    certifications: tuple[Certification, ...] = ()
    if data.certified_on and data.certificate_expires_on:
        certifications = (
            Certification(
                data.certificate_number or "-", data.certified_on, data.certificate_expires_on
            ),
        )
    trainings = (Training(data.training_course, data.trained_on),) if data.trained_on else ()
    return PureExpert(
        expert_id=expert_id,
        name=data.name,
        identity_number=data.identity_number,
        specialties=data.specialties,
        title=data.title,
        years_of_experience=data.years_of_experience,
        status=status,
        employments=tuple(employments),
        certifications=certifications,
        trainings=trainings,
        unavailable_dates=frozenset(unavailable),
        contact=Contact(phone=data.phone, email=data.email),
        declared_conflicts=frozenset(conflicts),
    )


def _require_admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("only an administrator manages the expert registry")


def _columns(data: ExpertInput) -> dict[str, Any]:
    return {
        "name": data.name,
        "identity_number": data.identity_number,
        "employer": data.employer_id,
        "specialties": ",".join(sorted(set(data.specialties))),
        "title": data.title.value,
        "years_of_experience": data.years_of_experience,
        "phone": data.phone,
        "email": data.email,
        "trained_on": data.trained_on,
        "training_course": data.training_course,
        "certificate_number": data.certificate_number,
        "certified_on": data.certified_on,
        "certificate_expires_on": data.certificate_expires_on,
    }


def username_for(identity_number: str) -> str:
    """The login of an expert's account: ``expert`` and the identity number's last 6."""
    return f"expert{identity_number[-6:].lower()}"


async def _check_references(data: ExpertInput, *, exclude_id: int | None = None) -> None:
    query = Expert.exists().where(Expert.identity_number == data.identity_number)
    if exclude_id is not None:
        query = query.where(Expert.id != exclude_id)
    if await query:
        raise Conflict(
            "an expert with identity number {masked} is already registered",
            masked=mask_identity_number(data.identity_number),
            field="identity_number",
        )
    if data.employer_id is not None and not await Organisation.exists().where(
        Organisation.id == data.employer_id
    ):
        raise ValidationError("the employer is not a registered organisation", field="employer")


async def _insert(data: ExpertInput, *, password: str | None, clock: Clock) -> int:
    now = clock.now()
    username = username_for(data.identity_number)
    serial = 1
    while await User.exists().where(User.username == username):
        serial += 1
        username = f"{username_for(data.identity_number)}{serial}"
    user_id = await create_user(
        username=username,
        password=password or secrets.token_urlsafe(18),
        role=Role.EXPERT,
        display_name=data.name,
        email=data.email,
        clock=clock,
    )
    if data.phone:
        await User.update({User.phone: data.phone}).where(User.id == user_id)
    row = Expert(user=user_id, created_at=now, updated_at=now, **_columns(data))
    await row.save()
    expert_id = int(row.id)
    if data.employer_id is not None:
        await ExpertEmployment(
            expert=expert_id,
            organisation=data.employer_id,
            started_on=data.certified_on or now.date(),
        ).save()
    return expert_id


async def create_expert(
    actor: Actor, data: ExpertInput, *, password: str | None = None, clock: Clock = SYSTEM_CLOCK
) -> int:
    """Register an expert and the expert-role account they log in with; return the id."""
    _require_admin(actor)
    async with transaction(Expert._meta.db):
        await _check_references(data)
        expert_id = await _insert(data, password=password, clock=clock)
        await audit.record(
            "expert.created",
            actor=actor,
            subject_type="expert",
            subject_id=expert_id,
            payload={"specialties": list(data.specialties)},
            clock=clock,
        )
    return expert_id


async def update_expert(
    actor: Actor, expert_id: int, data: ExpertInput, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Change an expert's registry fields; a new employer opens a new employment."""
    _require_admin(actor)
    async with transaction(Expert._meta.db):
        row = await get_expert(expert_id)
        await _check_references(data, exclude_id=expert_id)
        now = clock.now()
        values: dict[Any, Any] = {**_columns(data), "updated_at": now}
        await Expert.update(values).where(Expert.id == expert_id)
        if data.employer_id != row.employer:
            await ExpertEmployment.update({ExpertEmployment.ended_on: now.date()}).where(
                (ExpertEmployment.expert == expert_id) & ExpertEmployment.ended_on.is_null()
            )
            if data.employer_id is not None:
                await ExpertEmployment(
                    expert=expert_id, organisation=data.employer_id, started_on=now.date()
                ).save()
        await audit.record(
            "expert.updated", actor=actor, subject_type="expert", subject_id=expert_id, clock=clock
        )


async def set_status(
    actor: Actor,
    expert_id: int,
    status: str,
    reason: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Suspend, retire, blacklist or reactivate an expert; the reason is kept (GPL-R Art. 75)."""
    _require_admin(actor)
    try:
        new = ExpertStatus(status)
    except ValueError:
        raise ValidationError(
            "status must be one of {statuses}",
            statuses=", ".join(s.value for s in ExpertStatus),
            field="status",
        ) from None
    reason = reason.strip()
    if new is not ExpertStatus.ACTIVE and not reason:
        raise ValidationError("give the reason for the change of status", field="reason")
    async with transaction(Expert._meta.db):
        row = await get_expert(expert_id)
        await Expert.update(
            {Expert.status: new, Expert.status_reason: reason[:300], Expert.updated_at: clock.now()}
        ).where(Expert.id == expert_id)
        await audit.record(
            "expert.status",
            actor=actor,
            subject_type="expert",
            subject_id=expert_id,
            payload={"from": row.status, "to": new.value, "reason": reason[:300]},
            clock=clock,
        )


async def get_expert(expert_id: int) -> Expert:
    """The registry row, or NotFound."""
    row = await Expert.objects().where(Expert.id == expert_id).first()
    if row is None:
        raise NotFound("no expert with id {expert_id}", expert_id=expert_id)
    return row


async def expert_of_user(user_id: int) -> Expert:
    """The registry row of a logged-in expert, or NotFound."""
    row = await Expert.objects().where(Expert.user == user_id).first()
    if row is None:
        raise NotFound("your account is not linked to an expert of the registry")
    return row


#: Rows per page of the administrator's registry list.
EXPERTS_PER_PAGE = 100


async def list_experts(
    *, query: str = "", specialty_code: str = "", status: str = "", page: int = 1
) -> tuple[list[dict[str, Any]], int]:
    """One page of the registry list, filtered by name, specialty and status, and the count.

    A registry holds thousands of experts: the list pages, and says how many match in all.
    A specialty matches an expert holding that code or one below it (``A03`` takes
    ``A0301``): the filter is SQL, so every page is full and the count is exact.
    """
    conditions: list[Any] = []
    if query:
        conditions.append(Expert.name.ilike(f"%{query.replace('%', '')}%"))
    if specialty_code:
        specialty(specialty_code)
        conditions.append(
            Expert.specialties.like(f"{specialty_code}%")
            | Expert.specialties.like(f"%,{specialty_code}%")
        )
    if status:
        try:
            ExpertStatus(status)
        except ValueError:
            raise ValidationError("unknown status", field="status") from None
        conditions.append(Expert.status == status)
    select = Expert.select(
        Expert.id,
        Expert.name,
        Expert.identity_number,
        Expert.specialties,
        Expert.title,
        Expert.years_of_experience,
        Expert.status,
        Expert.certificate_expires_on,
        Expert.employer.name.as_alias("employer_name"),
    ).order_by(Expert.id)
    return await one_page(select, Expert.count(), conditions, page=page, per_page=EXPERTS_PER_PAGE)


async def pool_size() -> int:
    """How many experts the registry holds."""
    return int(await Expert.count())


# --- bulk import -------------------------------------------------------------------------


def read_import_file(filename: str, content: bytes) -> list[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM) or XLSX import file, keyed by column.

    Raises:
        ValidationError: an unsupported or unreadable file, missing or unknown columns, too
            many rows.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationError("the import file is larger than 10 MiB", field="file")
    lower = filename.lower()
    if lower.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("a CSV import file must be UTF-8 text", field="file") from None
        try:
            table = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as exc:
            raise ValidationError(
                "the CSV file cannot be read: {problem}", problem=str(exc), field="file"
            ) from None
    elif lower.endswith(".xlsx"):
        table = _xlsx_rows(content)
    else:
        raise ValidationError("import a .csv or .xlsx file", field="file")
    table = [row for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise ValidationError("the import file is empty", field="file")
    header = [cell.strip().lower() for cell in table[0]]
    missing = sorted(REQUIRED_COLUMNS - set(header))
    unknown = sorted(set(header) - set(IMPORT_COLUMNS) - {""})
    expected = ", ".join(IMPORT_COLUMNS)
    if missing and unknown:
        raise ValidationError(
            "the header row is wrong (missing columns: {missing}; unknown columns: {unknown}); "
            "expected {expected}",
            missing=", ".join(missing),
            unknown=", ".join(unknown),
            expected=expected,
            field="file",
        )
    if missing:
        raise ValidationError(
            "the header row is wrong (missing columns: {missing}); expected {expected}",
            missing=", ".join(missing),
            expected=expected,
            field="file",
        )
    if unknown:
        raise ValidationError(
            "the header row is wrong (unknown columns: {unknown}); expected {expected}",
            unknown=", ".join(unknown),
            expected=expected,
            field="file",
        )
    if len(header) != len(set(header)):
        raise ValidationError("a column appears twice in the header row", field="file")
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise ValidationError(
            "at most {limit} rows per import", limit=MAX_IMPORT_ROWS, field="file"
        )
    rows = []
    for cells in table[1:]:
        padded = [*cells, *([""] * (len(header) - len(cells)))]
        rows.append({name: padded[i].strip() for i, name in enumerate(header) if name})
    return rows


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError):
        raise ValidationError("the file is not a readable .xlsx workbook", field="file") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def import_experts(
    actor: Actor,
    rows: Sequence[Mapping[str, str]],
    *,
    valid_rows_only: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> ImportReport:
    """Import experts, reporting every bad row by its line (the header is line 1).

    All or nothing unless ``valid_rows_only``: one bad row (bad identity number, unknown
    specialty, duplicate in the file or the registry) and nothing is written.

    Raises:
        ImportRefused: bad rows in an all-or-nothing import; nothing was written.
    """
    _require_admin(actor)
    organisations = {
        str(row["credit_code"]).upper(): int(row["id"])
        for row in await Organisation.select(Organisation.id, Organisation.credit_code)
    }
    registered = {
        str(row["identity_number"]) for row in await Expert.select(Expert.identity_number)
    }
    errors: list[RowError] = []
    accepted: list[ExpertInput] = []
    seen: dict[str, int] = {}
    for line, fields in enumerate(rows, start=2):
        try:
            data = parse_expert_fields(fields, organisations_by_code=organisations)
        except ZhaocaiError as error:
            errors.append(RowError.of(line, error))
            continue
        masked = mask_identity_number(data.identity_number)
        if data.identity_number in seen:
            duplicate = ValidationError(
                "duplicate expert: {masked} is also on line {other_line}",
                masked=masked,
                other_line=seen[data.identity_number],
            )
            errors.append(RowError.of(line, duplicate))
            continue
        seen[data.identity_number] = line
        if data.identity_number in registered:
            registered_already = ValidationError(
                "duplicate expert: {masked} is already registered", masked=masked
            )
            errors.append(RowError.of(line, registered_already))
            continue
        accepted.append(data)
    report = ImportReport(rows=len(rows), imported=0, errors=tuple(errors))
    if errors and not valid_rows_only:
        raise ImportRefused(report)
    async with transaction(Expert._meta.db):
        for data in accepted:
            await _insert(data, password=None, clock=clock)
        await audit.record(
            "expert.imported",
            actor=actor,
            subject_type="expert_import",
            payload={"rows": len(rows), "imported": len(accepted), "refused": len(errors)},
            clock=clock,
        )
    return ImportReport(rows=len(rows), imported=len(accepted), errors=tuple(errors))


# --- self-service ------------------------------------------------------------------------


async def add_unavailable_date(actor: Actor, day: date, *, clock: Clock = SYSTEM_CLOCK) -> None:
    """An expert declares a day they cannot evaluate (kept once per day)."""
    expert = await expert_of_user(actor.user_id or 0)
    if day < clock.now().date():
        raise ValidationError("declare today or a later day", field="day")
    if await ExpertUnavailableDate.exists().where(
        (ExpertUnavailableDate.expert == expert.id) & (ExpertUnavailableDate.day == day)
    ):
        return
    await ExpertUnavailableDate(expert=expert.id, day=day).save()


async def remove_unavailable_date(actor: Actor, row_id: int) -> None:
    """An expert withdraws a declared unavailable day."""
    expert = await expert_of_user(actor.user_id or 0)
    await ExpertUnavailableDate.delete().where(
        (ExpertUnavailableDate.id == row_id) & (ExpertUnavailableDate.expert == expert.id)
    )


async def declare_conflict(
    actor: Actor, organisation_id: int, note: str, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """An expert declares a conflict of interest with an organisation (GPL-R Art. 9)."""
    expert = await expert_of_user(actor.user_id or 0)
    if not await Organisation.exists().where(Organisation.id == organisation_id):
        raise ValidationError("choose a registered organisation", field="organisation")
    if await ExpertConflict.exists().where(
        (ExpertConflict.expert == expert.id) & (ExpertConflict.organisation == organisation_id)
    ):
        return
    await ExpertConflict(
        expert=expert.id, organisation=organisation_id, note=note[:300], declared_at=clock.now()
    ).save()
    await audit.record(
        "expert.conflict_declared",
        actor=actor,
        subject_type="expert",
        subject_id=expert.id,
        payload={"organisation": organisation_id},
        clock=clock,
    )


async def withdraw_conflict(actor: Actor, row_id: int) -> None:
    """An expert withdraws a declared conflict."""
    expert = await expert_of_user(actor.user_id or 0)
    await ExpertConflict.delete().where(
        (ExpertConflict.id == row_id) & (ExpertConflict.expert == expert.id)
    )


async def self_service(actor: Actor) -> dict[str, Any]:
    """What an expert sees about themself: record (masked), days off, conflicts."""
    expert = await expert_of_user(actor.user_id or 0)
    days = (
        await ExpertUnavailableDate.select()
        .where(ExpertUnavailableDate.expert == expert.id)
        .order_by(ExpertUnavailableDate.day)
    )
    conflicts = await ExpertConflict.select(
        ExpertConflict.id,
        ExpertConflict.note,
        ExpertConflict.organisation.name.as_alias("organisation_name"),
    ).where(ExpertConflict.expert == expert.id)
    organisations = await Organisation.select(Organisation.id, Organisation.name).order_by(
        Organisation.name
    )
    return {
        "expert": expert,
        "masked_identity": mask_identity_number(expert.identity_number),
        "unavailable": days,
        "conflicts": conflicts,
        "organisations": organisations,
    }


# --- the pool for the draw ---------------------------------------------------------------


async def load_pool() -> list[PureExpert]:
    """Every registered expert as the pure screening sees them (ARCHITECTURE §4, step 1)."""
    employments: dict[int, list[Employment]] = {}
    for row in await ExpertEmployment.select():
        employments.setdefault(int(row["expert"]), []).append(
            Employment(int(row["organisation"]), row["started_on"], row["ended_on"])
        )
    unavailable: dict[int, list[date]] = {}
    for row in await ExpertUnavailableDate.select():
        unavailable.setdefault(int(row["expert"]), []).append(row["day"])
    conflicts: dict[int, list[int]] = {}
    for row in await ExpertConflict.select():
        conflicts.setdefault(int(row["expert"]), []).append(int(row["organisation"]))
    pool = []
    for row in await Expert.select().order_by(Expert.id):
        expert_id = int(row["id"])
        data = ExpertInput(
            name=row["name"],
            identity_number=row["identity_number"],
            specialties=tuple(row["specialties"].split(",")),
            title=ProfessionalTitle(row["title"]),
            years_of_experience=int(row["years_of_experience"]),
            phone=row["phone"],
            email=row["email"],
            trained_on=row["trained_on"],
            training_course=row["training_course"],
            certificate_number=row["certificate_number"],
            certified_on=row["certified_on"],
            certificate_expires_on=row["certificate_expires_on"],
        )
        pool.append(
            to_pure(
                data,
                expert_id=expert_id,
                status=ExpertStatus(row["status"]),
                employments=employments.get(expert_id, ()),
                unavailable=unavailable.get(expert_id, ()),
                conflicts=conflicts.get(expert_id, ()),
            )
        )
    return pool
