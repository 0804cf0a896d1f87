from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-06T01:55:24:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification.dedupe_key unique"


class Notification(Table, tablename="notification", schema=None):
    pass


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="procurement", description=DESCRIPTION
    )

    async def unique_dedupe_key():
        # a unique index, not a UNIQUE column: SQLite cannot add a UNIQUE column
        await Notification.raw(
            "CREATE UNIQUE INDEX notification_dedupe_key_unique ON notification (dedupe_key)"
        )

    manager.add_raw(unique_dedupe_key)

    return manager
