"""Piccolo CLI entry point: the configuration lives in ``zhaocai.piccolo_conf``."""

from zhaocai.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
