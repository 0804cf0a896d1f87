"""Piccolo app of the ``expert_pool`` package."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="expert_pool",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(modules=["expert_pool.tables"], exclude_imported=True),
    migration_dependencies=["procurement.piccolo_app"],
)
