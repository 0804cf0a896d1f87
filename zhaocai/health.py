"""``/health``: is the database, the object store and the broker reachable?"""

from __future__ import annotations

import uuid
from typing import Any

import anyio
from litestar import Request, Response, get

from procurement.tables import AuditEntry
from procurement.web import PUBLIC
from zhaocai.broker import check_broker


@get("/health", opt=PUBLIC, name="health", include_in_schema=True)
async def health_check(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """200 when database, object store and broker all answer; 503 naming what failed."""
    settings = request.app.state.settings
    store = request.app.state.object_store
    checks: dict[str, str] = {}
    try:
        await AuditEntry.count()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {exc}"
    try:
        await anyio.to_thread.run_sync(store.exists, f"health/{uuid.uuid4().hex}")
        checks["object_store"] = "ok"
    except Exception as exc:
        checks["object_store"] = f"error: {exc}"
    try:
        with anyio.fail_after(8):
            await anyio.to_thread.run_sync(check_broker, settings)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {exc}"
    healthy = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
