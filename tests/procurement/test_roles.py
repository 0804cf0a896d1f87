"""Every role has a name in both languages, shown beside the user's name on every page."""

from __future__ import annotations

import pytest

from procurement.roles import Role


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_named_in_chinese_and_english(role: Role) -> None:
    chinese, english = role.label("zh"), role.label("en")
    assert chinese == role.label_zh == role.label("zh-CN")
    assert english != chinese
    assert english[:1].isupper()
    assert all(ord(c) < 128 for c in english)


def test_no_two_roles_share_a_name() -> None:
    for language in ("zh", "en"):
        names = [role.label(language) for role in Role]
        assert len(set(names)) == len(names)
