"""``create_app``: the one place where the platform is wired together (ARCHITECTURE §8)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.security.session_auth import SessionAuth
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

import bidding
import evaluation
import expert_pool
import procurement
import storage
from procurement.accounts import load_actor
from procurement.controllers import ROUTE_HANDLERS as CORE_ROUTES
from procurement.db import bind_engine, engine_for
from procurement.exceptions import ZhaocaiError
from procurement.i18n import Translator
from procurement.roles import Actor
from procurement.settings import Settings
from procurement.web import (
    PUBLIC,
    ApiRefusesMultipartMiddleware,
    OptionalSessionAuthMiddleware,
    domain_error_handler,
    http_error_handler,
    humanize,
    path_ids_guard,
    quiet_exceptions,
    role_guard,
    storage_unavailable_handler,
)
from storage import StorageUnavailable, open_object_store
from zhaocai.celery_app import make_celery, subscribe_scheduling
from zhaocai.health import health_check
from zhaocai.wiring import all_tables, configure_packages, package_dirs

PACKAGES = (procurement, bidding, expert_pool, evaluation, storage)


async def _retrieve_actor(session: dict[str, Any], _: Any) -> Actor | None:
    return await load_actor(session.get("user_id"))


def _stores(settings: Settings) -> dict[str, Store]:
    """Sessions and rate limits: Redis in production, files in the embedded default."""
    if settings.redis_url:
        root = RedisStore.with_client(url=settings.redis_url)
        return {
            "sessions": root.with_namespace("sessions"),
            "rate_limit": root.with_namespace("rate_limit"),
        }
    base = settings.data_dir / "stores"
    return {
        "sessions": FileStore(base / "sessions", create_directories=True),
        "rate_limit": FileStore(base / "rate_limit", create_directories=True),
    }


def _template_engine(dirs: Sequence[Path]) -> JinjaTemplateEngine:
    environment = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(d / "templates")) for d in dirs if (d / "templates").is_dir()]
        ),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["humanize"] = humanize
    return JinjaTemplateEngine.from_environment(environment)


@get("/hello", opt=PUBLIC, name="hello", include_in_schema=False)
async def hello() -> str:
    """A trivial endpoint: the baseline of ``bench/portal.py``."""
    return "hello"


def create_app(
    settings: Settings | None = None, *, extra_route_handlers: Sequence[Any] = ()
) -> Litestar:
    """Build the web application for ``settings`` (default: from ``ZHAOCAI_*`` variables)."""
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine_for(settings.database_url)
    bind_engine(engine, all_tables())
    object_store = open_object_store(settings.storage_url)
    celery = make_celery(settings)
    subscribe_scheduling()
    configure_packages(settings, object_store)
    dirs = package_dirs()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # ARCHITECTURE §10: a pooled PostgreSQL serves list pages ~7x faster than without
        if not isinstance(engine, PostgresEngine) or settings.database_pool_size <= 0:
            yield
            return
        pool_size = settings.database_pool_size
        await engine.start_connection_pool(min_size=min(2, pool_size), max_size=pool_size)
        try:
            yield
        finally:
            await engine.close_connection_pool()

    session_auth = SessionAuth[Actor, Any](
        retrieve_user_handler=_retrieve_actor,
        session_backend_config=ServerSideSessionConfig(
            max_age=8 * 3600, samesite="lax", secure=settings.base_url.startswith("https")
        ),
        authentication_middleware_class=OptionalSessionAuthMiddleware,
        exclude=["^/static/", "^/schema"],
    )
    login_limit = RateLimitConfig(
        rate_limit=("minute", settings.login_attempts_per_minute),
        exclude_opt_key="not_rate_limited",
        check_throttle_handler=lambda request: bool(request.route_handler.opt.get("rate_limited")),
    )
    csrf = CSRFConfig(
        secret=settings.secret_key.hex(),
        cookie_name="zc_csrf",
        header_name="x-csrftoken",
        cookie_samesite="lax",
    )
    static_routes = [
        create_static_files_router(
            path=f"/static/{d.name}" if d.name != "procurement" else "/static",
            directories=[d / "static"],
            opt=PUBLIC,
            name=f"static_{d.name}",
            include_in_schema=False,
        )
        for d in dirs
        if (d / "static").is_dir()
    ]
    route_handlers = [
        *CORE_ROUTES,
        *higher_package_routes(),
        hello,
        health_check,
        *static_routes,
        *extra_route_handlers,
    ]
    return Litestar(
        route_handlers=route_handlers,
        state=State(
            {
                "settings": settings,
                "object_store": object_store,
                "translator": Translator(dirs),
                "engine": engine,
                "celery": celery,
            }
        ),
        lifespan=[lifespan],
        on_app_init=[session_auth.on_app_init],
        middleware=[ApiRefusesMultipartMiddleware(), login_limit.middleware],
        guards=[role_guard, path_ids_guard],
        stores=_stores(settings),
        csrf_config=csrf,
        template_config=TemplateConfig(instance=_template_engine(dirs)),
        exception_handlers={
            ZhaocaiError: domain_error_handler,
            HTTPException: http_error_handler,
            StorageUnavailable: storage_unavailable_handler,
        },
        openapi_config=OpenAPIConfig(
            title="Zhaocai API",
            version="0.1.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            # the API description is public, like the API it describes
            openapi_router=Router(path="/schema", route_handlers=[], opt=PUBLIC),
        ),
        request_max_body_size=16 * 1024 * 1024,
        logging_config=LoggingConfig(
            log_exceptions="always", disable_stack_trace=quiet_exceptions()
        ),
        debug=False,
    )


def higher_package_routes() -> list[Any]:
    """Route handlers of the packages above the core (each exports ``ROUTE_HANDLERS``)."""
    handlers: list[Any] = []
    for package in (bidding, expert_pool, evaluation):
        handlers.extend(getattr(package, "ROUTE_HANDLERS", []))
    from evaluation.inquiry_pages import ROUTE_HANDLERS as INQUIRY_ROUTES

    handlers.extend(INQUIRY_ROUTES)
    return handlers
