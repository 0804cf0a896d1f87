"""``python -m zhaocai``: the same as the ``zhaocai`` command."""

from zhaocai.cli import main

main()
