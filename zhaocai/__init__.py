"""Zhaocai (招采): the composition root.

It wires the domain packages together (``create_app``, the Celery app, the ``zhaocai``
command, demo data) and holds no procurement rules of its own. It is the only package that
imports all others; none imports it.
"""

__all__: list[str] = []
