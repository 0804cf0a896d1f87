"""The hierarchical specialty code list and matching by code prefix."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from expert_pool.specialties import (
    SPECIALTIES,
    ProcurementField,
    UnknownSpecialty,
    code_prefixes,
    is_known_specialty,
    serves_quota,
    specialty,
)

codes = st.sampled_from(sorted(SPECIALTIES))


def test_the_list_has_at_least_thirty_codes_in_goods_services_and_works() -> None:
    assert len(SPECIALTIES) >= 30
    assert {entry.field for entry in SPECIALTIES.values()} == set(ProcurementField)


def test_every_code_is_a_field_letter_and_pairs_of_digits() -> None:
    for code in SPECIALTIES:
        assert re.fullmatch(r"[ABC](\d\d){0,2}", code), code


def test_every_code_has_its_parent_in_the_list_and_parents_come_first() -> None:
    seen: set[str] = set()
    for code, entry in SPECIALTIES.items():
        assert entry.parent_code is None or entry.parent_code in seen, code
        seen.add(code)


def test_every_code_is_named_in_chinese_and_english() -> None:
    for entry in SPECIALTIES.values():
        assert re.search(r"[\u4e00-\u9fff]", entry.name_zh), entry.code
        assert entry.name_en.isascii()
        assert entry.name_en


def test_the_seed_fields_of_the_jiaxing_pool_are_in_the_list() -> None:
    names = {SPECIALTIES[code].name_en for code in ("A01", "A02", "A03", "A04", "A05", "A06")}
    assert names == {
        "Electrical equipment",
        "Audio equipment",
        "Air conditioning",
        "Computer applications",
        "Office automation",
        "Teaching and research instruments",
    }


def test_fields_are_read_from_the_code_letter() -> None:
    assert specialty("A0102").field is ProcurementField.GOODS
    assert specialty("B0301").field is ProcurementField.SERVICES
    assert specialty("C02").field is ProcurementField.WORKS


def test_an_unknown_code_is_refused_naming_the_code() -> None:
    with pytest.raises(UnknownSpecialty, match="'A99'"):
        specialty("A99")
    assert not is_known_specialty("A99")
    assert is_known_specialty("A99"[:1])


def test_prefixes_run_from_the_field_to_the_code_itself() -> None:
    assert code_prefixes("A0102") == ("A", "A01", "A0102")
    assert code_prefixes("B") == ("B",)


def test_an_expert_in_a_narrow_field_serves_quotas_for_the_wider_fields() -> None:
    assert serves_quota("A0102", "A01")
    assert serves_quota("A0102", "A")
    assert serves_quota("A0102", "A0102")


def test_an_expert_in_a_wide_field_does_not_serve_a_narrower_quota() -> None:
    assert not serves_quota("A01", "A0102")
    assert not serves_quota("A0102", "A0101")
    assert not serves_quota("A0102", "B")


@given(codes, codes)
def test_serving_a_quota_means_the_quota_code_is_one_of_the_experts_prefixes(
    expert_code: str, quota_code: str
) -> None:
    assert serves_quota(expert_code, quota_code) == (quota_code in code_prefixes(expert_code))
