"""ASGI entry point for uvicorn: ``uvicorn zhaocai.asgi:app``."""

from zhaocai.app import create_app

app = create_app()
