"""Piccolo configuration: the engine comes from ``ZHAOCAI_DATABASE_URL`` via settings."""

from piccolo.conf.apps import AppRegistry

from procurement.db import engine_for
from procurement.settings import Settings

DB = engine_for(Settings.from_env().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "storage.piccolo_app",
        "procurement.piccolo_app",
        "bidding.piccolo_app",
        "expert_pool.piccolo_app",
        "evaluation.piccolo_app",
    ]
)
