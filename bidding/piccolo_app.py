"""Piccolo app of the ``bidding`` package."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="bidding",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(modules=["bidding.tables"], exclude_imported=True),
    migration_dependencies=["procurement.piccolo_app"],
)
