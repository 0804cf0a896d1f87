"""Piccolo app of the ``storage`` package (no tables; see ``storage/tables.py``)."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="storage",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=table_finder(modules=["storage.tables"], exclude_imported=True),
)
