"""Report pages: statistics with filters and charts, the monthly bulletin, exports, timeliness.

Supervisors and admins see every purchasing unit; a purchaser sees only its own unit's
figures (the filter is forced, and asking for another unit is refused). Charts are SVG
rendered on the server by pygal and inlined, so the pages need no network and no script.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pygal
from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Stream, Template
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from pygal.style import Style

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.exceptions import Forbidden, ValidationError
from procurement.lifecycle import FailureReason, ProcurementMethod, ProjectCategory
from procurement.money import percent_display
from procurement.ocds import compile_record, load_project_releases, package_meta, release_stream
from procurement.reports import (
    Line,
    Report,
    ReportFilters,
    bulletin_paragraphs,
    line_items,
    monthly_trend,
    parse_filters,
    period_report,
)
from procurement.roles import Actor, Role
from procurement.tables import HolidayOverride, Organisation
from procurement.timeliness import group_by_unit, load_items, summarise
from procurement.web import PUBLIC, language_of, render, require_actor, roles

REPORT_ROLES = roles(Role.SUPERVISOR, Role.ADMIN, Role.PURCHASER)
SUPERVISION = roles(Role.SUPERVISOR, Role.ADMIN)
WAN = "#,##0.00"
YUAN = "#,##0.00"
PERCENT = "0.00%"


def today() -> date:
    """Today in China Standard Time (report periods are CST calendar days)."""
    return SYSTEM_CLOCK.now().astimezone(CHINA).date()


def scoped_filters(request: Request[Any, Any, Any]) -> ReportFilters:
    """The request's filters, a purchaser held to its own unit."""
    filters = parse_filters(dict(request.query_params), today=today())
    actor = require_actor(request)
    if actor.role is Role.PURCHASER:
        if filters.purchaser_id not in (None, actor.organisation_id):
            raise Forbidden("a purchasing unit sees only its own figures")
        return ReportFilters(
            filters.period, actor.organisation_id, filters.category, filters.method
        )
    return filters


# --------------------------------------------------------------------------- charts

CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#d5dae1",
    colors=("#b3261e", "#1f5fa8", "#2e7d4f", "#b26a00", "#6b4fa0", "#5f6b7a"),
    font_family="'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif",
    title_font_size=15,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
    value_font_size=11,
)
_SCRIPT = re.compile(r"<script.*?</script>", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def _svg(chart: Any) -> str:
    """The chart as inline SVG without scripts or comments (no network, no JS)."""
    text = chart.render(is_unicode=True)
    return _COMMENT.sub("", _SCRIPT.sub("", text))


def _chart_config(title: str, height: int = 360) -> dict[str, Any]:
    return {
        "title": title,
        "style": CHART_STYLE,
        "height": height,
        "width": 820,
        "js": [],
        "disable_xml_declaration": True,
        "legend_at_bottom": True,
        "print_values": False,
        "show_minor_x_labels": True,
        "truncate_legend": -1,
    }


def rate_axis(rates: list[float | None]) -> tuple[int, int]:
    """The savings-rate axis (%): 0-20, widened by steps of 5 to hold every rate."""
    known = [rate for rate in rates if rate is not None]
    lowest, highest = min([0.0, *known]), max([20.0, *known])
    low, high = 5 * math.floor(lowest / 5), 5 * math.ceil(highest / 5)
    # a rate a hair below a multiple of 5 can round onto it in the division (-5e-324 / 5 is
    # -0.0): step once more so the axis really holds it
    return (low - 5 if low > lowest else low), (high + 5 if high < highest else high)


def trend_chart(trend: list[tuple[Any, Report]], t: Any) -> str:
    """Award amount (万元) per month as bars and the savings rate (%) as a line.

    The rate's axis fits every month's rate (:func:`rate_axis`), so no point is drawn over
    the title or below the axis.
    """
    rates: list[float | None] = []
    for _, r in trend:
        total = Line(
            r.government.events + r.works.events,
            r.government.award_fen + r.works.award_fen,
            r.government.reference_fen + r.works.reference_fen,
        )
        rates.append(None if total.rate_percent is None else float(total.rate_percent))
    chart = pygal.Bar(
        **_chart_config(t("Award amount and savings rate, last 12 months")),
        secondary_range=rate_axis(rates),
        x_label_rotation=0,
    )
    chart.x_labels = [period.start.strftime("%y-%m") for period, _ in trend]
    chart.add(
        t("Award amount (10,000 yuan)"),
        [float(r.government.award_wan + r.works.award_wan) for _, r in trend],
    )
    chart.add(t("Savings rate (%)"), rates, secondary=True)
    return _svg(chart)


def breakdown_chart(report: Report, t: Any, language: str) -> str:
    """Award amount and funds saved (万元) per category and per method."""
    chart = pygal.HorizontalBar(**_chart_config(t("Award and savings by category and method")))
    labels: list[str] = []
    awards: list[float] = []
    saved: list[float] = []
    for category, line in (
        (ProjectCategory.GOODS, report.goods),
        (ProjectCategory.SERVICES, report.services),
        (ProjectCategory.WORKS, report.works),
    ):
        labels.append(category.label(language))
        awards.append(float(line.award_wan))
        saved.append(float(line.saved_wan))
    for method in ProcurementMethod:
        method_line = report.by_method.get(method.value)
        if method_line is None:
            continue
        labels.append("· " + method.label(language))
        awards.append(float(method_line.award_wan))
        saved.append(float(method_line.saved_wan))
    chart.x_labels = labels
    chart.add(t("Award amount (10,000 yuan)"), awards)
    chart.add(t("Funds saved (10,000 yuan)"), saved)
    return _svg(chart)


# --------------------------------------------------------------------------- exports

LINE_ITEM_HEADER = (
    "lot_id",
    "project_code",
    "project_title",
    "purchasing_unit",
    "category",
    "method",
    "lot",
    "lot_title",
    "status",
    "failure_reason",
    "concluded_at",
    "budget_yuan",
    "reference_yuan",
    "award_yuan",
    "saved_yuan",
)


def _yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def line_item_values(row: dict[str, Any]) -> list[Any]:
    """One exported line item: exact yuan amounts (Decimal), CST time."""
    awarded = row["status"] == "awarded"
    award = row["award_fen"] if awarded else None
    return [
        row["lot_id"],
        row["code"],
        row["title"],
        row["purchaser"],
        row["category"],
        row["method"],
        row["number"],
        row["lot_title"],
        row["status"],
        row["failure_reason"],
        row["concluded_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        _yuan(row["budget_fen"]),
        _yuan(row["reference_fen"]),
        _yuan(award),
        _yuan(row["reference_fen"] - award) if award is not None else None,
    ]


def summary_rows(report: Report) -> list[tuple[str, Line]]:
    """The table's lines in the bulletin's order."""
    return [
        ("government procurement", report.government),
        ("  of which online price inquiries", report.inquiries),
        ("  goods", report.goods),
        ("  services", report.services),
        (f"works tenders (reference: {report.works_reference_label})", report.works),
    ]


async def write_csv(filters: ReportFilters, path: Path) -> None:
    """The line items as CSV in ``path``, batch by batch (UTF-8 with BOM for spreadsheets).

    Written to a file before the response starts, like the XLSX: a row that cannot be
    written is then an error response, never a 200 download cut off half-way.
    """
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(LINE_ITEM_HEADER)
        await asyncio.to_thread(handle.write, buffer.getvalue())
        async for batch in line_items(filters):
            buffer.seek(0)
            buffer.truncate()
            for row in batch:
                writer.writerow(["" if v is None else v for v in line_item_values(row)])
            await asyncio.to_thread(handle.write, buffer.getvalue())


def _cell(sheet: WriteOnlyWorksheet, value: Any, number_format: str | None = None) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    return cell


async def write_xlsx(report: Report, filters: ReportFilters, path: Path) -> None:
    """The summary table and the line items as numbers with number formats (write-only)."""
    book = Workbook(write_only=True)
    summary = book.create_sheet("Summary")
    title = WriteOnlyCell(summary, value=f"Zhaocai report {filters.period.label}")
    title.font = Font(bold=True, size=13)
    summary.append([title])
    summary.append(["amounts in 10,000 yuan (万元), rounded half-up; rates = saved / budget"])
    summary.append(["line", "events", "award", "budget or reference", "saved", "savings rate"])
    for label, line in summary_rows(report):
        rate = line.rate_percent
        summary.append(
            [
                label,
                line.events,
                _cell(summary, line.award_wan, WAN),
                _cell(summary, line.reference_wan, WAN),
                _cell(summary, line.saved_wan, WAN),
                _cell(summary, None if rate is None else rate / 100, PERCENT),
            ]
        )
    summary.append([])
    summary.append(["concluded lots", report.concluded])
    summary.append(["award rate", _cell(summary, report.award_rate, PERCENT)])
    summary.append(["failure rate", _cell(summary, report.failure_rate, PERCENT)])
    summary.append(
        ["average valid bids per lot", _cell(summary, report.average_valid_bids, "0.00")]
    )
    summary.append(["deadlines met", _cell(summary, report.deadlines_met_share, PERCENT)])
    for reason, count in sorted(report.failure_reasons.items()):
        summary.append([f"failed: {reason}", count])
    items = book.create_sheet("Lots")
    items.append(list(LINE_ITEM_HEADER))
    async for batch in line_items(filters):
        for row in batch:
            values = line_item_values(row)
            items.append([_cell(items, v, YUAN) if isinstance(v, Decimal) else v for v in values])
    await asyncio.to_thread(book.save, str(path))


def file_chunks(path: Path, chunk: int = 1 << 16) -> Iterator[bytes]:
    """A file's bytes in chunks; the file is removed when the stream ends."""
    try:
        with path.open("rb") as handle:
            while data := handle.read(chunk):
                yield data
    finally:
        path.unlink(missing_ok=True)


async def file_download(
    write: Callable[[Path], Awaitable[None]], filters: ReportFilters, suffix: str, media_type: str
) -> Stream:
    """A download written by ``write`` into a temporary file first, then streamed from it.

    Whatever fails while writing fails before the response starts (and the file is
    removed); the stream only copies a complete file, announced with its Content-Length.
    """
    handle, name = tempfile.mkstemp(suffix=f".{suffix}", prefix="zhaocai-report-")
    os.close(handle)
    path = Path(name)
    try:
        await write(path)
        size = os.stat(name).st_size
    except BaseException:
        os.unlink(name)
        raise
    filename = f"zhaocai-report-{filters.period.label.replace(' – ', '_')}.{suffix}"
    return Stream(
        file_chunks(path),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Length": str(size),
        },
    )


# --------------------------------------------------------------------------- routes


class ReportsController(Controller):
    """Routes under /reports."""

    path = "/reports"

    @get("/", opt=REPORT_ROLES, name="reports")
    async def index(self, request: Request[Any, Any, Any]) -> Template:
        """The statistics table of a period, with filters and charts."""
        filters = scoped_filters(request)
        language = language_of(request)
        report = await period_report(filters)
        trend = await monthly_trend(filters)
        t = render_translator(request)
        actor = require_actor(request)
        units = await purchasing_units(actor)
        return render(
            request,
            "reports/index.html",
            {
                "report": report,
                "filters": filters,
                "rows": summary_rows(report),
                "trend_svg": trend_chart(trend, t),
                "breakdown_svg": breakdown_chart(report, t, language),
                "units": units,
                "categories": list(ProjectCategory),
                "methods": list(ProcurementMethod),
                "reasons": {r.value: r.label(language) for r in FailureReason},
                "pct": percent_display,
                "export_query": "&".join(f"{k}={v}" for k, v in filters.query().items()),
            },
        )

    @get("/bulletin", opt=REPORT_ROLES, name="reports_bulletin")
    async def bulletin(self, request: Request[Any, Any, Any]) -> Template:
        """The printable monthly bulletin, worded like seed 000 section 二."""
        filters = scoped_filters(request)
        report = await period_report(filters)
        language = language_of(request)
        return render(
            request,
            "reports/bulletin.html",
            {
                "report": report,
                "filters": filters,
                "paragraphs": bulletin_paragraphs(report, language),
                "rows": summary_rows(report),
            },
        )

    @get("/export.csv", opt=REPORT_ROLES, name="reports_csv")
    async def export_csv(self, request: Request[Any, Any, Any]) -> Stream:
        """Every concluded lot of the period as CSV (written batch by batch, then streamed)."""
        filters = scoped_filters(request)
        # Litestar appends "; charset=utf-8" to every text/ media type itself
        return await file_download(
            lambda path: write_csv(filters, path), filters, "csv", "text/csv"
        )

    @get("/export.xlsx", opt=REPORT_ROLES, name="reports_xlsx")
    async def export_xlsx(self, request: Request[Any, Any, Any]) -> Stream:
        """The table and the line items as XLSX (write-only workbook in a temp file, streamed)."""
        filters = scoped_filters(request)
        report = await period_report(filters)
        return await file_download(
            lambda path: write_xlsx(report, filters, path),
            filters,
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )

    @get("/timeliness", opt=SUPERVISION, name="reports_timeliness")
    async def timeliness(self, request: Request[Any, Any, Any]) -> Template:
        """Every open deadline, green / yellow / red, grouped by purchasing unit."""
        now = SYSTEM_CLOCK.now()
        overrides = {
            row["day"]: row["is_working_day"]
            for row in await HolidayOverride.select(
                HolidayOverride.day, HolidayOverride.is_working_day
            )
        }
        calendar = WorkingDayCalendar(overrides)
        items = await load_items(calendar, now)
        statuses = summarise(items, now, calendar)
        return render(
            request,
            "reports/timeliness.html",
            {"groups": group_by_unit(statuses), "now": now, "total": len(statuses)},
        )


def render_translator(request: Request[Any, Any, Any]) -> Any:
    """The gettext function of the request's language (chart titles and legends)."""
    translator = request.app.state.translator
    return translator.gettext(language_of(request))


async def purchasing_units(actor: Actor) -> list[dict[str, Any]]:
    """Units for the filter: every purchasing unit, or the purchaser's own."""
    query = Organisation.select(Organisation.id, Organisation.name, Organisation.name_en).where(
        Organisation.kind == "purchasing_unit"
    )
    if actor.role is Role.PURCHASER:
        query = query.where(Organisation.id == actor.organisation_id)
    return list(await query.order_by(Organisation.name))


class OcdsController(Controller):
    """Open Contracting Data Standard 1.1 packages (public: what the portal already shows)."""

    path = "/api/ocds"

    @get("/projects/{project_id:int}", opt=PUBLIC, name="ocds_project")
    async def project(
        self, request: Request[Any, Any, Any], project_id: FromPath[int]
    ) -> dict[str, Any]:
        """A release package of one published project, with its compiled record."""
        base = str(request.base_url).rstrip("/")
        releases = await load_project_releases(project_id, base)
        return {
            **package_meta(f"{base}/api/ocds/projects/{project_id}", SYSTEM_CLOCK.now()),
            "releases": releases,
        }

    @get("/records/{project_id:int}", opt=PUBLIC, name="ocds_record")
    async def record(
        self, request: Request[Any, Any, Any], project_id: FromPath[int]
    ) -> dict[str, Any]:
        """A record package: the project's releases and the compiled release."""
        base = str(request.base_url).rstrip("/")
        releases = await load_project_releases(project_id, base)
        meta = package_meta(f"{base}/api/ocds/records/{project_id}", SYSTEM_CLOCK.now())
        return {**meta, "records": [compile_record(releases)]}

    @get("/releases", opt=PUBLIC, name="ocds_releases")
    async def releases(self, request: Request[Any, Any, Any]) -> Stream:
        """Every release of the projects published in ``from``–``to`` (CST days), streamed."""
        params = dict(request.query_params)
        filters = parse_filters(
            {k: v for k, v in params.items() if k in {"from", "to", "month"}}, today=today()
        )
        unknown = sorted(set(params) - {"from", "to", "month"})
        if unknown:
            raise ValidationError(
                "unknown parameter {names}", field=unknown[0], names=", ".join(unknown)
            )
        start, end = filters.period.utc_bounds
        base = str(request.base_url).rstrip("/")
        uri = f"{base}/api/ocds/releases?{request.url.query}"
        return Stream(
            release_stream(start, end, uri, SYSTEM_CLOCK.now(), base),
            media_type="application/json",
        )
