"""Piccolo app of the platform core."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="procurement",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(
        modules=["procurement.tables", "procurement.contract_tables"], exclude_imported=True
    ),
)
