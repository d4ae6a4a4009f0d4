"""The committed bundle (traveller_site/static/dist) is the build of the committed sources.

`make site` (traveller_site/web/build.mjs) writes the SHA-256 of the lock file, the build script
and every file of web/src into dist/SOURCES and the bundle's header; this recomputes it, so a
source changed without rebuilding fails here, with no Node.js needed."""

from __future__ import annotations

import hashlib
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "traveller_site" / "web"
DIST = WEB.parent / "static" / "dist"


def _sources_hash() -> str:
    digest = hashlib.sha256()
    files = ["package-lock.json", "build.mjs", *(f"src/{p.name}" for p in sorted((WEB / "src").iterdir()))]
    for name in files:
        digest.update(f"{name}\n".encode())
        digest.update((WEB / name).read_bytes())
    return digest.hexdigest()


def test_the_committed_bundle_was_built_from_the_committed_sources():
    recorded = (DIST / "SOURCES").read_text().strip()
    assert recorded == _sources_hash(), "traveller_site/web changed since the bundle was built: run `make site`"
    for name in ("site.js", "site.css"):
        assert f"from sources {recorded}" in (DIST / name).read_text(encoding="utf-8")[:300]


def test_the_page_loads_only_the_bundle_and_no_outside_address():
    html = (WEB.parent / "static" / "index.html").read_text(encoding="utf-8")
    assert "/site/dist/site.js" in html and "/site/dist/site.css" in html
    assert "http://" not in html and "https://" not in html  # nothing from the internet (no CDN, no tiles)
