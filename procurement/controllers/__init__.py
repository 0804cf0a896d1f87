"""Litestar routes of the platform core; mounted by ``zhaocai.app.create_app``."""

from procurement.controllers.admin import AdminController
from procurement.controllers.api import PublicApiController, SessionApiController
from procurement.controllers.auth import AuthController
from procurement.controllers.contracts import ContractApiController, ContractController
from procurement.controllers.inquiries import InquiryApiController, InquiryPagesController
from procurement.controllers.portal import PortalController
from procurement.controllers.purchaser import PurchaserController
from procurement.controllers.reports import OcdsController, ReportsController
from procurement.controllers.supervisor import SupervisorController
from procurement.controllers.supplier import SupplierController
from procurement.controllers.workspace import WorkspaceController

ROUTE_HANDLERS = [
    PortalController,
    AuthController,
    WorkspaceController,
    PurchaserController,
    SupplierController,
    AdminController,
    SupervisorController,
    PublicApiController,
    SessionApiController,
    ReportsController,
    OcdsController,
    ContractController,
    ContractApiController,
    InquiryPagesController,
    InquiryApiController,
]

__all__ = ["ROUTE_HANDLERS"]
