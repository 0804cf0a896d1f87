"""The Celery application: Redis (or RabbitMQ) in production, a folder in the embedded default.

Scheduled work (bid deadlines, automatic openings, timeouts, overdue warnings) must run in
both modes (ARCHITECTURE §2); the beat schedule holds the periodic sweeps.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import Celery, signals

from procurement import events
from procurement.db import bind_engine, engine_for
from procurement.settings import Settings
from storage import open_object_store
from zhaocai.broker import transport_for, transport_options
from zhaocai.wiring import all_tables, configure_packages

log = logging.getLogger(__name__)


def make_celery(settings: Settings | None = None) -> Celery:
    """Build the Celery app for ``settings`` and bind the tables to its database."""
    settings = settings or Settings.from_env()
    app = Celery("zhaocai", broker=settings.broker_url)
    conf: dict[str, Any] = {
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "timezone": "UTC",
        "enable_utc": True,
        "broker_connection_retry_on_startup": True,
        "beat_schedule": {
            "sweep-deadlines": {
                "task": "procurement.sweep_deadlines",
                "schedule": settings.sweep_seconds,
            },
            "deliver-notifications": {
                "task": "procurement.deliver_notifications",
                "schedule": settings.sweep_seconds,
            },
            "warn-overdue": {
                "task": "procurement.warn_overdue",
                "schedule": settings.sweep_seconds,
            },
            "sweep-openings": {
                "task": "bidding.sweep_openings",
                "schedule": settings.sweep_seconds,
            },
            "abort-abandoned-uploads": {
                "task": "bidding.abort_abandoned_uploads",
                "schedule": settings.sweep_seconds,
            },
            "sweep-expert-confirmations": {
                "task": "expert_pool.sweep_confirmations",
                "schedule": settings.sweep_seconds,
            },
        },
        "beat_schedule_filename": str(settings.data_dir / "celerybeat-schedule"),
        "include": ["procurement.tasks", *_higher_task_modules()],
    }
    conf["broker_transport_options"] = transport_options(settings)
    conf["broker_transport"] = transport_for(settings)
    app.conf.update(conf)
    app.set_default()
    return app


def _higher_task_modules() -> list[str]:
    import importlib.util

    return [
        name
        for name in ("bidding.tasks", "expert_pool.tasks", "evaluation.tasks")
        if importlib.util.find_spec(name) is not None
    ]


def schedule_lot_close(*, lot_id: int, bid_deadline: datetime, **_: Any) -> None:
    """Queue the exact-time closing task; the sweep covers a broker that is down."""
    from procurement.tasks import close_lot

    try:
        close_lot.apply_async((lot_id,), eta=bid_deadline)
    except Exception:
        log.warning(
            "could not queue the deadline task of lot %s; the sweep will close it",
            lot_id,
            exc_info=True,
        )


async def _on_lot_published(**payload: Any) -> None:
    schedule_lot_close(**payload)


def subscribe_scheduling() -> None:
    """Schedule each published lot's deadline task (called by create_app and workers)."""
    events.subscribe(events.LOT_PUBLISHED, _on_lot_published)


@signals.worker_init.connect
@signals.worker_process_init.connect
def _bind_database(**_: Any) -> None:
    """Workers talk to the database named by their environment."""
    settings = Settings.from_env()
    bind_engine(engine_for(settings.database_url), all_tables())
    subscribe_scheduling()
    configure_packages(settings, open_object_store(settings.storage_url))


#: The app ``celery -A zhaocai.celery_app worker`` runs (settings from the environment).
celery_app = make_celery()
