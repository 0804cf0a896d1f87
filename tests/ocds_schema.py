"""The official OCDS 1.1 release schema, from a package on PyPI, pinned by its hash.

libcoveocds fetches the standard's schema from the web at run time, which the test machines
cannot reach; PyPI they can. The Open Contracting Partnership's own merge library,
``ocdsmerge``, ships the published 1.1.4 release schema among its test fixtures: its sdist
is downloaded once from PyPI, checked against the SHA-256 pinned here, and the schema file
is kept under ``var/`` for later runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
SDIST_URL = (
    "https://files.pythonhosted.org/packages/d6/f2/"
    "684522ebdae1bfe9043bce8379cbd1ff1ae2b3f4a61fff3b30ee551d575f/ocdsmerge-0.8.0.tar.gz"
)
SDIST_SHA256 = "a9f6d8f1e854b79d07d378f3effaaefcc2687efd52e9edacd89b6b4a79538160"
MEMBER = "ocdsmerge-0.8.0/tests/fixtures/release-schema-1__1__4.json"
SCHEMA_ID = "https://standard.open-contracting.org/schema/1__1__4/release-schema.json"
CACHE = ROOT / "var" / "ocds" / "release-schema-1__1__4.json"


def official_release_schema() -> dict[str, Any]:
    """The published OCDS 1.1.4 release schema (downloaded once, verified, cached)."""
    if not CACHE.exists():
        response = httpx.get(SDIST_URL, follow_redirects=True, timeout=120)
        response.raise_for_status()
        digest = hashlib.sha256(response.content).hexdigest()
        if digest != SDIST_SHA256:
            raise RuntimeError(f"ocdsmerge sdist hash {digest} is not the pinned {SDIST_SHA256}")
        with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as sdist:
            member = sdist.extractfile(MEMBER)
            if member is None:
                raise RuntimeError(f"{MEMBER} is missing from the ocdsmerge sdist")
            text = member.read()
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(text)
    schema: dict[str, Any] = json.loads(CACHE.read_text(encoding="utf-8"))
    if schema.get("id") != SCHEMA_ID:
        raise RuntimeError(f"{CACHE} is not the OCDS 1.1.4 release schema")
    return schema
