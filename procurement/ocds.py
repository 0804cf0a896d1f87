"""Projects as Open Contracting Data Standard 1.1 releases and records.

Each published project gives:

- a **planning** release (the budget), dated at the project's creation;
- a **tender** release on publication: the tender with its lots (lots extension), value,
  tender period, method and category, and the tender documents;
- one **award** release per awarded lot: winner, amount and related lot, dated at the award;
- a **tenderUpdate** release at the opening time once a lot is opened: the tender again with
  ``numberOfTenderers`` (single-lot projects) and ``bids.statistics`` per lot (bid
  extension: measures ``bids`` and ``validBids``), counted by the package that holds the
  bids through ``procurement.reports.register_bid_counts``; never before the opening, when
  the number of bidders is secret (TBL Art. 22; seed 004);
- one **contract** release per recorded contract (procurement.contracts), dated when it was
  recorded, with its amount and signing date.

The compiled record merges them (latest value wins; awards and parties merged by id).
Amounts are yuan as JSON numbers, currency ``CNY``, converted from exact fen. Funds saved are
published as the documented extra field ``awards[].savings`` (docs/reports.md): OCDS has no
field for them. The OCID prefix ``ocds-zhaocai`` is a placeholder: a real deployment
registers its own prefix with the Open Contracting Partnership and sets it here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from procurement.clock import CHINA
from procurement.contract_tables import Contract
from procurement.exceptions import NotFound
from procurement.lifecycle import ProcurementMethod
from procurement.reports import bid_counts_sql
from procurement.tables import Lot, Organisation, Project, TenderDocument

OCID_PREFIX = "ocds-zhaocai"
VERSION = "1.1"
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extension/ocds_lots_extension/"
    "v1.1.5/extension.json"
)
BID_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extension/ocds_bid_extension/"
    "v1.1.5/extension.json"
)
PUBLISHER = {"name": "Zhaocai 招采", "uri": "https://github.com/zhaocai"}
CURRENCY = "CNY"
ORG_SCHEME = "CN-USCC"  # unified social credit code (org-id.guide)

#: OCDS procurementMethod: open; selective (only invited or qualified suppliers bid);
#: limited (the purchaser negotiates with suppliers it contacts); direct (one supplier).
METHODS = {
    ProcurementMethod.OPEN_TENDER: "open",
    ProcurementMethod.INVITATION: "selective",
    ProcurementMethod.PRICE_INQUIRY: "selective",
    ProcurementMethod.COMPETITIVE_NEGOTIATION: "limited",
    ProcurementMethod.COMPETITIVE_CONSULTATION: "limited",
    ProcurementMethod.SINGLE_SOURCE: "direct",
}
LOT_STATUS = {
    "draft": "planning",
    "published": "active",
    "bidding_closed": "active",
    "opened": "active",
    "evaluating": "active",
    "awarded": "complete",
    "failed": "unsuccessful",
    "cancelled": "cancelled",
}
#: Lots whose bids have been opened: only then may their number be published.
OPENED_STATES = frozenset({"opened", "evaluating", "awarded", "failed"})


def ocid(project_code: str) -> str:
    """The project's Open Contracting ID."""
    return f"{OCID_PREFIX}-{project_code}"


def amount(fen: int) -> dict[str, Any]:
    """An OCDS Value: yuan as a number (exact fen / 100), CNY."""
    yuan = Decimal(fen) / 100
    number: int | float = int(yuan) if yuan == yuan.to_integral_value() else float(yuan)
    return {"amount": number, "currency": CURRENCY}


def stamp(moment: datetime) -> str:
    """An ISO 8601 date-time with its offset, as OCDS requires."""
    return moment.isoformat()


def party(org: Mapping[str, Any], roles: list[str]) -> dict[str, Any]:
    """An organisation as an OCDS party, identified by its unified social credit code."""
    return {
        "id": f"{ORG_SCHEME}-{org['credit_code']}",
        "name": org["name"],
        "identifier": {"scheme": ORG_SCHEME, "id": org["credit_code"], "legalName": org["name"]},
        "roles": roles,
    }


def _reference_fen(project: Mapping[str, Any], lot: Mapping[str, Any]) -> tuple[int, str]:
    if project["category"] == "works":
        if lot["reserve_price_fen"] is not None:
            return int(lot["reserve_price_fen"]), "reservePrice"
        if lot["ceiling_price_fen"] is not None:
            return int(lot["ceiling_price_fen"]), "ceilingPrice"
    return int(lot["budget_fen"]), "budget"


def project_releases(
    project: Mapping[str, Any],
    buyer: Mapping[str, Any],
    lots: list[Mapping[str, Any]],
    documents: list[Mapping[str, Any]],
    suppliers: Mapping[int, Mapping[str, Any]],
    base_url: str = "",
    *,
    contracts: Mapping[int, Mapping[str, Any]] | None = None,
    bid_counts: Mapping[int, tuple[int, int]] | None = None,
) -> list[dict[str, Any]]:
    """The planning, tender, bid, award and contract releases of one published project (pure).

    ``contracts`` maps a lot id to its contract row; ``bid_counts`` a lot id to its
    (bids, valid bids), or is None when no package counts bids.
    """
    project_ocid = ocid(project["code"])
    buyer_party = party(buyer, ["buyer", "procuringEntity"])
    buyer_ref = {"id": buyer_party["id"], "name": buyer_party["name"]}

    def release(suffix: str, tag: str, date: datetime, **body: Any) -> dict[str, Any]:
        return {
            "ocid": project_ocid,
            "id": f"{project_ocid}-{suffix}",
            "date": stamp(date),
            "tag": [tag],
            "initiationType": "tender",
            "language": "zh",
            "buyer": buyer_ref,
            **body,
        }

    total_budget = sum(int(lot["budget_fen"]) for lot in lots)
    planning = release(
        "planning",
        "planning",
        project["created_at"],
        parties=[buyer_party],
        planning={"budget": {"amount": amount(total_budget)}},
    )
    statuses = {LOT_STATUS[str(lot["status"])] for lot in lots}
    tender_status = "active" if "active" in statuses else "complete"
    if statuses <= {"cancelled"}:
        tender_status = "cancelled"
    elif statuses <= {"unsuccessful", "cancelled"}:
        tender_status = "unsuccessful"
    tender = {
        "id": project["code"],
        "title": project["title"],
        "description": project["description"] or project["title"],
        "status": tender_status,
        "procuringEntity": buyer_ref,
        "value": amount(total_budget),
        "procurementMethod": METHODS[ProcurementMethod(project["method"])],
        "procurementMethodDetails": project["method"],
        "mainProcurementCategory": project["category"],
        "tenderPeriod": {
            "startDate": stamp(project["documents_from"]),
            "endDate": stamp(project["bid_deadline"]),
        },
        "lots": [
            {
                "id": str(lot["id"]),
                "title": lot["title"],
                "status": LOT_STATUS[str(lot["status"])],
                "value": amount(int(lot["budget_fen"])),
            }
            for lot in lots
        ],
        "documents": [
            {
                "id": str(doc["id"]),
                "documentType": "biddingDocuments",
                "title": doc["filename"],
                "url": f"{base_url}/documents/{doc['id']}/download",
                "datePublished": stamp(doc["uploaded_at"]),
                "format": doc["content_type"],
            }
            for doc in documents
        ],
    }
    releases = [planning]
    releases.append(
        release("tender", "tender", project["published_at"], parties=[buyer_party], tender=tender)
    )
    opened = [lot for lot in lots if str(lot["status"]) in OPENED_STATES]
    if bid_counts is not None and opened:
        statistics = []
        for lot in opened:
            bids, valid = bid_counts.get(int(lot["id"]), (0, 0))
            for measure, value in (("bids", bids), ("validBids", valid)):
                statistics.append(
                    {
                        "id": f"{lot['id']}-{measure}",
                        "measure": measure,
                        "value": value,
                        "relatedLot": str(lot["id"]),
                    }
                )
        updated = dict(tender)
        if len(lots) == 1:
            updated["numberOfTenderers"] = bid_counts.get(int(lots[0]["id"]), (0, 0))[0]
        releases.append(
            release(
                "bids",
                "tenderUpdate",
                project["opening_time"],
                parties=[buyer_party],
                tender=updated,
                bids={"statistics": statistics},
            )
        )
    for lot in lots:
        if lot["status"] != "awarded" or lot["award_amount_fen"] is None:
            continue
        supplier = suppliers.get(int(lot["awarded_supplier"] or 0))
        parties = [buyer_party]
        award: dict[str, Any] = {
            "id": f"{project['code']}-lot-{lot['id']}",
            "title": lot["title"],
            "status": "active",
            "date": stamp(lot["awarded_at"]),
            "value": amount(int(lot["award_amount_fen"])),
            "relatedLots": [str(lot["id"])],
        }
        if supplier is not None:
            supplier_party = party(supplier, ["supplier", "tenderer"])
            parties.append(supplier_party)
            award["suppliers"] = [{"id": supplier_party["id"], "name": supplier_party["name"]}]
        reference, basis = _reference_fen(project, lot)
        saved = reference - int(lot["award_amount_fen"])
        award["savings"] = {
            "amount": amount(saved),
            "basis": basis,
            "rate": float(Decimal(saved) / reference) if reference else None,
        }
        releases.append(
            release(
                f"award-{lot['id']}", "award", lot["awarded_at"], parties=parties, awards=[award]
            )
        )
        signed = (contracts or {}).get(int(lot["id"]))
        if signed is not None:
            contract = {
                "id": f"{project['code']}-contract-{lot['id']}",
                "awardID": award["id"],
                "title": lot["title"],
                "status": "active",
                "value": amount(int(signed["amount_fen"])),
                "dateSigned": stamp(datetime.combine(signed["signed_on"], time(), CHINA)),
            }
            releases.append(
                release(
                    f"contract-{lot['id']}",
                    "contract",
                    signed["recorded_at"],
                    parties=parties,
                    contracts=[contract],
                )
            )
    return releases


def _merge_by_id(old: list[Any], new: list[Any]) -> list[Any]:
    merged = {item["id"]: item for item in old}
    for item in new:
        if item["id"] in merged and "roles" in item:
            roles = list(dict.fromkeys(merged[item["id"]]["roles"] + item["roles"]))
            merged[item["id"]] = {**merged[item["id"]], **item, "roles": roles}
        else:
            merged[item["id"]] = {**merged.get(item["id"], {}), **item}
    return list(merged.values())


def compile_record(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """A record: the releases and their compiled state (latest wins, arrays merged by id)."""
    ordered = sorted(releases, key=lambda r: r["date"])
    compiled: dict[str, Any] = {}
    for release in ordered:
        for key, value in release.items():
            if key in {"parties", "awards", "contracts"}:
                compiled[key] = _merge_by_id(compiled.get(key, []), value)
            else:
                compiled[key] = value
    compiled["id"] = f"{ordered[-1]['ocid']}-compiled"
    compiled["tag"] = ["compiled"]
    return {
        "ocid": ordered[-1]["ocid"],
        "releases": ordered,
        "compiledRelease": compiled,
    }


def package_meta(uri: str, published: datetime) -> dict[str, Any]:
    """The package metadata every OCDS package carries."""
    return {
        "uri": uri,
        "version": VERSION,
        "publishedDate": stamp(published),
        "publisher": PUBLISHER,
        "extensions": [LOTS_EXTENSION, BID_EXTENSION],
    }


async def load_project_releases(project_id: int, base_url: str = "") -> list[dict[str, Any]]:
    """The releases of a published project (NotFound for drafts and unknown ids)."""
    rows = await Project.select().where(Project.id == project_id)
    if not rows or rows[0]["published_at"] is None:
        raise NotFound("no published project with id {project_id}", project_id=project_id)
    return (await _releases_for(rows, base_url))[0]


async def _releases_for(
    projects: list[dict[str, Any]], base_url: str
) -> list[list[dict[str, Any]]]:
    ids = [p["id"] for p in projects]
    lots = await Lot.select().where(Lot.project.is_in(ids)).order_by(Lot.number)
    documents = await TenderDocument.select().where(TenderDocument.project.is_in(ids))
    org_ids = {p["purchaser"] for p in projects} | {
        lot["awarded_supplier"] for lot in lots if lot["awarded_supplier"]
    }
    orgs = {
        o["id"]: o
        for o in await Organisation.select(
            Organisation.id, Organisation.name, Organisation.credit_code
        ).where(Organisation.id.is_in(list(org_ids)))
    }
    lot_ids = [int(lot["id"]) for lot in lots]
    contracts = {
        int(row["lot"]): row
        for row in await Contract.select().where(Contract.lot.is_in(lot_ids or [0]))
    }
    counts = await _bid_counts(lot_ids)
    result = []
    for project in projects:
        result.append(
            project_releases(
                project,
                orgs[project["purchaser"]],
                [lot for lot in lots if lot["project"] == project["id"]],
                [doc for doc in documents if doc["project"] == project["id"]],
                orgs,
                base_url,
                contracts=contracts,
                bid_counts=counts,
            )
        )
    return result


async def _bid_counts(lot_ids: list[int]) -> dict[int, tuple[int, int]] | None:
    """(bids, valid bids) of the lots from the registered source; None without one."""
    source = bid_counts_sql()
    if source is None:
        return None
    if not lot_ids:
        return {}
    marks = ", ".join("{}" for _ in lot_ids)
    rows = await Lot.raw(
        f"SELECT bc.lot_id AS lot_id, bc.bids AS bids, bc.valid_bids AS valid_bids "  # noqa: S608
        f"FROM ({source}) bc WHERE bc.lot_id IN ({marks})",
        *lot_ids,
    )
    return {int(r["lot_id"]): (int(r["bids"]), int(r["valid_bids"] or 0)) for r in rows}


BULK_BATCH = 200


async def release_stream(
    start: datetime, end: datetime, uri: str, published: datetime, base_url: str = ""
) -> AsyncIterator[bytes]:
    """A release package of every project published in [start, end), as JSON chunks.

    Projects are read in batches (keyset pagination), so a large range never sits in memory.
    """
    head = json.dumps(package_meta(uri, published), ensure_ascii=False)
    yield (head[:-1] + ', "releases": [').encode()
    first = True
    after = 0
    while True:
        batch = (
            await Project.select()
            .where(
                (Project.published_at >= start)
                & (Project.published_at < end)
                & (Project.id > after)
            )
            .order_by(Project.id)
            .limit(BULK_BATCH)
        )
        if not batch:
            break
        for releases in await _releases_for(batch, base_url):
            for release in releases:
                text = json.dumps(release, ensure_ascii=False)
                yield (text if first else "," + text).encode()
                first = False
        after = int(batch[-1]["id"])
        if len(batch) < BULK_BATCH:
            break
    yield b"]}"
