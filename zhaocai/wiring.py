"""What the composition root knows: every package, its tables and its folders."""

from __future__ import annotations

from pathlib import Path

from piccolo.table import Table

import bidding.piccolo_app
import evaluation.piccolo_app
import expert_pool.piccolo_app
import procurement.piccolo_app
import storage.piccolo_app
from procurement.settings import Settings
from storage import ObjectStore

APP_CONFIGS = (
    storage.piccolo_app.APP_CONFIG,
    procurement.piccolo_app.APP_CONFIG,
    bidding.piccolo_app.APP_CONFIG,
    expert_pool.piccolo_app.APP_CONFIG,
    evaluation.piccolo_app.APP_CONFIG,
)


def all_tables() -> list[type[Table]]:
    """Every table of every package, in dependency order."""
    return [table for config in APP_CONFIGS for table in config.table_classes]


def package_dirs() -> list[Path]:
    """Package folders, core first: templates and catalogs of later ones extend it."""
    import bidding
    import evaluation
    import expert_pool
    import procurement

    return [Path(str(p.__file__)).parent for p in (procurement, bidding, expert_pool, evaluation)]


def configure_packages(settings: Settings, object_store: ObjectStore) -> None:
    """Give the domain packages their adapters and hook them to the core's events."""
    import bidding
    from bidding.platform_keys import master_key, signing_key
    from bidding.statistics import register_statistics

    bidding.configure(
        bidding.BiddingRuntime(
            store=object_store, master_key=master_key(settings), signing_key=signing_key(settings)
        )
    )
    bidding.subscribe()
    import evaluation

    evaluation.subscribe()
    register_statistics()
    import expert_pool

    expert_pool.subscribe(bidders_of_lot)


async def bidders_of_lot(lot_id: int) -> frozenset[int]:
    """Every organisation that bid on a lot, withdrawn bids included (avoidance, GPL-R Art. 9).

    ``expert_pool`` may not import ``bidding``; the composition root hands this reader over.
    """
    from bidding.tables import Bid

    rows = await Bid.select(Bid.bidder).where(Bid.lot == lot_id)
    return frozenset(int(row["bidder"]) for row in rows)
