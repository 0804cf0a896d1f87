"""The specialty code list 专业分类: the fields an expert may evaluate in.

Experts are drawn at random *by speciality* (TBL-R Art. 46; GPL-R Art. 39), so every expert
and every draw quota names codes from one hierarchical list. A code is a field letter
(A goods 货物, B services 服务, C works 工程) followed by two digits per level; an expert
registered under ``A0102`` serves a quota for ``A01`` and for ``A``, never the other way
round. The list is seeded from the fields of the Jiaxing expert database (seed 004: electrical
equipment, audio equipment, air conditioning, computer applications, office automation,
teaching and research instruments) and widened to the services and works a trading centre
handles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from procurement.exceptions import ValidationError


class ProcurementField(StrEnum):
    """The three objects of procurement (GPL Art. 2): goods, services, works."""

    GOODS = "goods"
    SERVICES = "services"
    WORKS = "works"


_FIELD_OF_LETTER = {
    "A": ProcurementField.GOODS,
    "B": ProcurementField.SERVICES,
    "C": ProcurementField.WORKS,
}


@dataclass(frozen=True, slots=True)
class Specialty:
    """One node of the code list, named in both languages."""

    code: str
    name_zh: str
    name_en: str

    @property
    def field(self) -> ProcurementField:
        """Goods, services or works, read from the code's letter."""
        return _FIELD_OF_LETTER[self.code[0]]

    @property
    def parent_code(self) -> str | None:
        """The code one level up (``A0102`` → ``A01`` → ``A`` → ``None``)."""
        if len(self.code) == 1:
            return None
        return self.code[:-2]


class UnknownSpecialty(ValidationError):
    """A code that is not in the list; a draw for it could never be filled."""

    def __init__(self, code: str) -> None:
        super().__init__(
            "unknown specialty code {specialty!r}: use a code from the specialty list "
            "(e.g. A01 electrical equipment, B01 information technology services, "
            "C01 building construction)",
            field="specialty",
            specialty=code,
        )
        self.specialty_code = code


_ENTRIES: tuple[tuple[str, str, str], ...] = (
    ("A", "货物", "Goods"),
    ("A01", "电气设备", "Electrical equipment"),
    ("A0101", "变配电设备", "Power transformation and distribution equipment"),
    ("A0102", "电机及发电机组", "Electric motors and generating sets"),
    ("A0103", "照明设备", "Lighting equipment"),
    ("A0104", "电线电缆", "Wires and cables"),
    ("A02", "音响设备", "Audio equipment"),
    ("A0201", "专业音响", "Professional audio systems"),
    ("A0202", "公共广播系统", "Public address systems"),
    ("A0203", "会议系统", "Conference systems"),
    ("A03", "空调设备", "Air conditioning"),
    ("A0301", "中央空调", "Central air conditioning"),
    ("A0302", "分体及单元式空调", "Split and unitary air conditioners"),
    ("A0303", "通风及净化设备", "Ventilation and air purification"),
    ("A04", "计算机应用", "Computer applications"),
    ("A0401", "服务器", "Servers"),
    ("A0402", "台式及便携式计算机", "Desktop and portable computers"),
    ("A0403", "网络设备", "Network equipment"),
    ("A0404", "存储设备", "Storage equipment"),
    ("A0405", "信息安全设备", "Information security equipment"),
    ("A05", "办公自动化设备", "Office automation"),
    ("A0501", "复印及打印设备", "Copiers and printers"),
    ("A0502", "投影及显示设备", "Projectors and displays"),
    ("A0503", "多功能一体机", "Multifunction office devices"),
    ("A06", "教学科研仪器", "Teaching and research instruments"),
    ("A0601", "分析仪器", "Analytical instruments"),
    ("A0602", "理化生教学仪器", "Physics, chemistry and biology teaching instruments"),
    ("A0603", "电教设备", "Audio-visual teaching equipment"),
    ("A07", "医疗设备", "Medical equipment"),
    ("A0701", "医用影像设备", "Medical imaging equipment"),
    ("A0702", "临床检验设备", "Clinical laboratory equipment"),
    ("A08", "车辆", "Vehicles"),
    ("A09", "家具", "Furniture"),
    ("B", "服务", "Services"),
    ("B01", "信息技术服务", "Information technology services"),
    ("B0101", "软件开发", "Software development"),
    ("B0102", "信息系统集成", "Information systems integration"),
    ("B0103", "运行维护", "Operation and maintenance"),
    ("B02", "物业管理", "Property management"),
    ("B03", "工程咨询", "Engineering consulting"),
    ("B0301", "工程造价咨询", "Cost consulting"),
    ("B0302", "工程监理", "Construction supervision"),
    ("B04", "法律服务", "Legal services"),
    ("B05", "审计及会计服务", "Audit and accounting services"),
    ("B06", "印刷服务", "Printing services"),
    ("C", "工程", "Works"),
    ("C01", "房屋建筑工程", "Building construction"),
    ("C0101", "土建", "Civil and structural works"),
    ("C0102", "建筑安装", "Building services installation"),
    ("C0103", "装饰装修", "Interior fit-out"),
    ("C02", "市政工程", "Municipal works"),
    ("C0201", "道路桥梁", "Roads and bridges"),
    ("C0202", "给水排水", "Water supply and drainage"),
    ("C03", "水利工程", "Water conservancy works"),
    ("C04", "园林绿化工程", "Landscaping works"),
    ("C05", "智能化工程", "Intelligent building systems"),
)

SPECIALTIES: Mapping[str, Specialty] = MappingProxyType(
    {code: Specialty(code, zh, en) for code, zh, en in _ENTRIES}
)
"""Every specialty by code, parents before children (the list's own order)."""


def specialty(code: str) -> Specialty:
    """The specialty for ``code``.

    Raises:
        UnknownSpecialty: the code is not in the list.
    """
    try:
        return SPECIALTIES[code]
    except KeyError:
        raise UnknownSpecialty(code) from None


def is_known_specialty(code: str) -> bool:
    """Whether ``code`` is in the list."""
    return code in SPECIALTIES


def code_prefixes(code: str) -> tuple[str, ...]:
    """The code and all its ancestors, broadest first (``A0102`` → ``A``, ``A01``, ``A0102``).

    An expert's specialty serves a quota for any of these codes; the draw indexes experts
    under every prefix so that matching a quota is a single look-up.
    """
    return tuple(code[:length] for length in range(1, len(code) + 1, 2))


def serves_quota(expert_code: str, quota_code: str) -> bool:
    """Whether an expert registered under ``expert_code`` may fill a quota for ``quota_code``.

    Matching is by code prefix: the expert's field must lie inside the quota's field, so an
    expert in A0102 serves A01 and A, but an expert in A01 (no narrower field) does not serve
    a quota for A0102 (TBL-R Art. 46: experts are drawn by speciality).
    """
    return expert_code.startswith(quota_code)
