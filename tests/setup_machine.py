"""Install what the tests need from the machine's package manager, if it is missing.

Chromium comes from Debian's packages (never a browser download by a test tool). Fonts
with Chinese glyphs make screenshots readable. Services (PostgreSQL, Redis, SeaweedFS) are
started by the test session itself, see ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> None:
    """apt-get install chromium (and CJK fonts) when the browser is not there."""
    if os.path.exists(CHROMIUM) and os.path.exists("/usr/share/fonts/opentype/noto"):
        return
    if shutil.which("apt-get") is None:
        sys.exit("Chromium is missing and apt-get is not available: install chromium")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"],
        check=True,
        env=env,
    )


if __name__ == "__main__":
    ensure_chromium()
