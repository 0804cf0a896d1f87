"""OCDS 1.1: release and record packages of a project, the bulk export, and their validity.

Every release is validated against the standard's own published release schema (1.1.4,
taken from PyPI: tests/ocds_schema.py) with zero errors allowed; the packages around them,
and the platform's own promises (ocid prefix, CNY, offsets on dates), against the rules
written out below. libcoveocds is not used: it downloads the schema from the web at run time.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import jsonschema
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.ocds import compile_record
from procurement.tables import Organisation
from tests.integration.test_reports import NOVEMBER, lot, owner, project
from tests.ocds_schema import official_release_schema

pytestmark = pytest.mark.integration

VALUE = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {"amount": {"type": "number"}, "currency": {"enum": ["CNY"]}},
}
DATE = {"type": "string", "format": "date-time", "pattern": r"[+-]\d\d:\d\d$|Z$"}
ORG_REF = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}
RELEASE = {
    "type": "object",
    "required": ["ocid", "id", "date", "tag", "initiationType"],
    "properties": {
        "ocid": {"type": "string", "pattern": "^ocds-zhaocai-"},
        "id": {"type": "string"},
        "date": DATE,
        "tag": {
            "type": "array",
            "minItems": 1,
            "items": {
                "enum": ["planning", "tender", "tenderUpdate", "award", "contract", "compiled"]
            },
        },
        "initiationType": {"enum": ["tender"]},
        "buyer": ORG_REF,
        "parties": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "roles"],
                "properties": {
                    "roles": {
                        "type": "array",
                        "items": {"enum": ["buyer", "procuringEntity", "supplier", "tenderer"]},
                    },
                    "identifier": {
                        "type": "object",
                        "required": ["scheme", "id"],
                        "properties": {"scheme": {"enum": ["CN-USCC"]}},
                    },
                },
            },
        },
        "planning": {
            "type": "object",
            "properties": {"budget": {"properties": {"amount": VALUE}}},
        },
        "tender": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "status": {"enum": ["planning", "active", "cancelled", "unsuccessful", "complete"]},
                "procurementMethod": {"enum": ["open", "selective", "limited", "direct"]},
                "mainProcurementCategory": {"enum": ["goods", "works", "services"]},
                "value": VALUE,
                "tenderPeriod": {
                    "properties": {"startDate": DATE, "endDate": DATE},
                },
                "lots": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {
                            "status": {
                                "enum": [
                                    "planning",
                                    "active",
                                    "cancelled",
                                    "unsuccessful",
                                    "complete",
                                ]
                            },
                            "value": VALUE,
                        },
                    },
                },
                "documents": {
                    "type": "array",
                    "items": {"type": "object", "required": ["id"]},
                },
                "numberOfTenderers": {"type": "integer", "minimum": 0},
            },
        },
        "bids": {
            "type": "object",
            "properties": {
                "statistics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "measure", "value"],
                        "properties": {
                            "id": {"type": "string"},
                            "measure": {"enum": ["bids", "validBids"]},
                            "value": {"type": "number"},
                            "relatedLot": {"type": "string"},
                        },
                    },
                },
            },
        },
        "contracts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "awardID"],
                "properties": {
                    "id": {"type": "string"},
                    "awardID": {"type": "string"},
                    "status": {"enum": ["pending", "active", "cancelled", "terminated"]},
                    "value": VALUE,
                    "dateSigned": DATE,
                },
            },
        },
        "awards": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "status": {"enum": ["pending", "active", "cancelled", "unsuccessful"]},
                    "date": DATE,
                    "value": VALUE,
                    "suppliers": {"type": "array", "items": ORG_REF},
                    "relatedLots": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
PACKAGE_META = {
    "uri": {"type": "string", "format": "uri"},
    "version": {"enum": ["1.1"]},
    "publishedDate": DATE,
    "publisher": {"type": "object", "required": ["name"]},
    "extensions": {"type": "array", "items": {"type": "string"}},
}
RELEASE_PACKAGE = {
    "type": "object",
    "required": ["uri", "publishedDate", "publisher", "releases", "version"],
    "properties": {**PACKAGE_META, "releases": {"type": "array", "items": RELEASE}},
}
RECORD_PACKAGE = {
    "type": "object",
    "required": ["uri", "publishedDate", "publisher", "records", "version"],
    "properties": {
        **PACKAGE_META,
        "records": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["ocid", "releases"],
                "properties": {
                    "releases": {"type": "array", "items": RELEASE},
                    "compiledRelease": RELEASE,
                },
            },
        },
    },
}


def validate(package: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    ).validate(package)
    ids = [r["id"] for r in package.get("releases", [])]
    assert len(ids) == len(set(ids)), "release ids are unique within a package"
    releases = list(package.get("releases", []))
    for record in package.get("records", []):
        releases += [*record.get("releases", []), record["compiledRelease"]]
    official = jsonschema.Draft4Validator(
        official_release_schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = [
        f"{release.get('id')}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for release in releases
        for e in official.iter_errors(release)
    ]
    assert errors == [], "the official OCDS release schema reports errors"


async def awarded_project() -> tuple[int, int]:
    who = await owner("张家港市第一人民医院")
    supplier = Organisation(
        name="苏州康泰医疗设备有限公司",
        kind="supplier",
        credit_code="91320582MA1XYZ1234",
        created_at=NOVEMBER,
    )
    await supplier.save()
    pid = await project(
        who,
        category="works",
        method="open_tender",
        published_at=NOVEMBER - timedelta(days=25),
        title="门诊楼改造工程",
    )
    await lot(
        pid,
        budget_fen=1_050_000_00,
        reserve_fen=1_000_000_00,
        award_fen=888_888_88,
        supplier_id=supplier.id,
    )
    await lot(pid, budget_fen=500_000_00, status="failed", failure_reason="TOO_FEW_BIDS")
    return pid, int(supplier.id)


async def test_a_project_is_a_valid_release_package_with_planning_tender_and_award(
    client: AsyncTestClient[Litestar],
) -> None:
    pid, _ = await awarded_project()
    response = await client.get(f"/api/ocds/projects/{pid}")
    assert response.status_code == 200
    package = response.json()
    validate(package, RELEASE_PACKAGE)
    tags = [r["tag"][0] for r in package["releases"]]
    assert tags == ["planning", "tender", "tenderUpdate", "award"]
    planning, tender, _, award = package["releases"]
    assert planning["planning"]["budget"]["amount"] == {"amount": 1_550_000, "currency": "CNY"}
    assert tender["tender"]["mainProcurementCategory"] == "works"
    assert [lot["status"] for lot in tender["tender"]["lots"]] == ["complete", "unsuccessful"]
    given = award["awards"][0]
    assert given["value"] == {"amount": 888_888.88, "currency": "CNY"}
    assert given["savings"] == {
        "amount": {"amount": 111_111.12, "currency": "CNY"},
        "basis": "reservePrice",
        "rate": pytest.approx(0.1111111),
    }
    roles = {p["name"]: p["roles"] for p in award["parties"]}
    assert roles["苏州康泰医疗设备有限公司"] == ["supplier", "tenderer"]
    assert "buyer" in roles["张家港市第一人民医院"]


async def test_the_compiled_record_merges_the_stages_into_one_release(
    client: AsyncTestClient[Litestar],
) -> None:
    pid, _ = await awarded_project()
    package = (await client.get(f"/api/ocds/records/{pid}")).json()
    validate(package, RECORD_PACKAGE)
    record = package["records"][0]
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"]
    assert {"planning", "tender", "awards"} <= set(compiled)
    assert len(compiled["parties"]) == 2
    assert record == compile_record(record["releases"])


async def test_the_bulk_export_streams_every_project_published_in_the_range(
    client: AsyncTestClient[Litestar],
) -> None:
    await awarded_project()
    who = await owner()
    for day in range(3):
        await project(
            who, category="goods", method="price_inquiry", published_at=NOVEMBER + timedelta(day)
        )
    response = await client.get(
        "/api/ocds/releases", params={"from": "2026-10-01", "to": "2026-11-02"}
    )
    assert response.status_code == 200
    package = json.loads(response.content)
    validate(package, RELEASE_PACKAGE)
    assert len({r["ocid"] for r in package["releases"]}) == 3
    empty = await client.get("/api/ocds/releases", params={"month": "2030-01"})
    assert json.loads(empty.content)["releases"] == []


async def test_drafts_are_not_published_as_ocds_and_bad_ranges_are_refused(
    client: AsyncTestClient[Litestar],
) -> None:
    who = await owner()
    draft = await project(who, category="goods", method="open_tender")
    from procurement.tables import Project

    await Project.update({Project.published_at: None}).where(Project.id == draft)
    assert (await client.get(f"/api/ocds/projects/{draft}")).status_code == 404
    inverted = await client.get(
        "/api/ocds/releases", params={"from": "2026-12-01", "to": "2026-11-01"}
    )
    assert inverted.status_code == 400
    assert "inverted" in inverted.json()["detail"]
    assert (await client.get("/api/ocds/releases", params={"x": "1"})).status_code == 400


async def test_the_contract_stage_and_the_bid_statistics_are_releases_of_their_own(
    client: AsyncTestClient[Litestar],
) -> None:
    from procurement.contract_tables import Contract
    from tests.integration.test_reports import insert_bids

    who = await owner("常熟市教育局")
    supplier = await owner("苏州书香文具有限公司")
    pid = await project(
        who, category="goods", method="open_tender", published_at=NOVEMBER - timedelta(days=25)
    )
    lot_id = await lot(
        pid, budget_fen=200_000_00, award_fen=175_800_00, supplier_id=supplier.organisation_id
    )
    await insert_bids(
        lot_id,
        [
            ("submitted", "opened"),
            ("submitted", "opened"),
            ("submitted", "invalid"),
            ("withdrawn", None),
        ],
    )
    await Contract(
        lot=lot_id,
        supplier=supplier.organisation_id,
        amount_fen=175_800_00,
        signed_on=date(2026, 11, 20),
        recorded_by=who.user_id,
        recorded_at=NOVEMBER + timedelta(days=20, hours=3),
    ).save()
    package = (await client.get(f"/api/ocds/projects/{pid}")).json()
    validate(package, RELEASE_PACKAGE)
    assert [r["tag"][0] for r in package["releases"]] == [
        "planning",
        "tender",
        "tenderUpdate",
        "award",
        "contract",
    ]
    releases = {r["tag"][0]: r for r in package["releases"]}
    update = releases["tenderUpdate"]
    assert update["tender"]["numberOfTenderers"] == 3
    assert update["tender"]["lots"] == releases["tender"]["tender"]["lots"]
    assert {s["measure"]: s["value"] for s in update["bids"]["statistics"]} == {
        "bids": 3,
        "validBids": 2,
    }
    assert {s["relatedLot"] for s in update["bids"]["statistics"]} == {str(lot_id)}
    contract = releases["contract"]["contracts"][0]
    assert contract["awardID"] == releases["award"]["awards"][0]["id"]
    assert contract["value"] == {"amount": 175_800, "currency": "CNY"}
    assert contract["dateSigned"] == "2026-11-20T00:00:00+08:00"
    assert contract["status"] == "active"
    assert any("ocds_bid_extension" in url for url in package["extensions"])
    record = (await client.get(f"/api/ocds/records/{pid}")).json()
    validate(record, RECORD_PACKAGE)
    compiled = record["records"][0]["compiledRelease"]
    assert compiled["contracts"] == [contract]
    assert compiled["tender"]["numberOfTenderers"] == 3
    assert compiled["bids"] == update["bids"]


async def test_the_number_of_bids_stays_secret_until_the_opening(
    client: AsyncTestClient[Litestar],
) -> None:
    from tests.integration.test_reports import insert_bids

    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    lot_id = await lot(pid, budget_fen=100_00, status="published")
    await insert_bids(lot_id, [("submitted", None), ("submitted", None)])
    package = (await client.get(f"/api/ocds/projects/{pid}")).json()
    validate(package, RELEASE_PACKAGE)
    assert [r["tag"][0] for r in package["releases"]] == ["planning", "tender"]
    assert "numberOfTenderers" not in json.dumps(package)


def test_the_official_schema_catches_what_it_should() -> None:
    """The validation cannot pass vacuously: a release that breaks the standard fails."""
    validator = jsonschema.Draft4Validator(official_release_schema())
    broken = {"ocid": "ocds-zhaocai-1", "id": "1", "date": "2026-11-01T00:00:00+08:00"}
    assert validator.is_valid({**broken, "tag": ["tender"], "initiationType": "tender"})
    assert not validator.is_valid({**broken, "tag": ["no-such-tag"], "initiationType": "tender"})
    assert not validator.is_valid(
        {**broken, "tag": ["tender"], "initiationType": "tender", "tender": {"value": "ten"}}
    )
