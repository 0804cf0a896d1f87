"""Log in, log out and supplier self-registration."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from procurement.accounts import SupplierRegistration, authenticate, register_supplier
from procurement.exceptions import ValidationError, ZhaocaiError
from procurement.web import (
    PUBLIC,
    current_actor,
    error_text,
    form_list,
    form_text,
    render,
    status_for,
)

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _safe_next(target: str) -> str:
    """Only local paths, so the login form cannot bounce a user to another site."""
    if target.startswith("/") and not target.startswith("//"):
        return target
    return "/workspace"


class AuthController(Controller):
    """Session login (Litestar's server-side sessions), logout and registration."""

    @get("/login", opt=PUBLIC, name="login")
    async def login_page(self, request: Request[Any, Any, Any]) -> Template:
        """The login form."""
        return render(request, "auth/login.html", {"next": request.query_params.get("next", "")})

    @post("/login", opt={**PUBLIC, "rate_limited": True}, name="login_submit")
    async def login(self, request: Request[Any, Any, Any], data: FormData) -> Template | Redirect:
        """Check credentials, start a fresh session, go to the workspace or ``next``."""
        username = form_text(data, "username")
        try:
            actor = await authenticate(username, form_text(data, "password"))
        except ZhaocaiError as exc:
            return render(
                request,
                "auth/login.html",
                {
                    "error": error_text(request, exc),
                    "username": username,
                    "next": form_text(data, "next"),
                },
                status_code=status_for(exc),
            )
        request.clear_session()
        request.set_session({"user_id": actor.user_id})
        return Redirect(_safe_next(form_text(data, "next") or "/workspace"))

    @post("/logout", opt=PUBLIC, name="logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        """End the session."""
        request.clear_session()
        return Redirect("/")

    @get("/register", opt=PUBLIC, name="register")
    async def register_page(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """The supplier registration form."""
        if current_actor(request) is not None:
            return Redirect("/workspace")
        return render(request, "auth/register.html", {"form": {}})

    @post("/register", opt=PUBLIC, name="register_submit")
    async def register(self, request: Request[Any, Any, Any], data: FormData) -> Template:
        """Register a supplier; it may log in once an admin approves it."""
        fields = {
            k: form_text(data, k)
            for k in (
                "company_name",
                "company_name_en",
                "credit_code",
                "enterprise_size",
                "contact_person",
                "contact_phone",
                "email",
                "username",
                "address",
            )
        }
        categories = form_list(data, "categories")  # a file in its place is text too
        try:
            if form_text(data, "password") != form_text(data, "password2"):
                raise ValidationError("the two passwords differ", field="password2")
            await register_supplier(
                SupplierRegistration(
                    password=form_text(data, "password"), categories=",".join(categories), **fields
                )
            )
        except ZhaocaiError as exc:
            return render(
                request,
                "auth/register.html",
                {
                    "form": fields,
                    "error": error_text(request, exc),
                    "error_field": getattr(exc, "field", None),
                },
                status_code=status_for(exc),
            )
        return render(
            request, "auth/registered.html", {"company": fields["company_name"]}, status_code=201
        )
