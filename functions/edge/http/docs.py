"""The API reference page: the OpenAPI document rendered by swagger-ui, served offline.

The renderer is a pinned release vendored into the source (`functions/edge/http/vendor/swagger-ui`,
written by `make vendor`, hash-checked by a test): no CDN at view time, so the page works
on the emulators offline and in browsers that block third-party scripts. The page runs
under a strict Content-Security-Policy: scripts and styles from this function only, no
inline script, no outside connection; the reference is read-only (no "Try it out").

Asset URLs are relative (`docs/...`), so the page works at `.../docs`, at `.../docs/` and
at the root of a Cloud Run URL alike.
"""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Request

from functions.contract import openapi
from functions.core.errors import NotFound
from functions.edge.http.responses import Reply

VENDOR = Path(__file__).resolve().parent / "vendor" / "swagger-ui"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
"""
INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "docs/openapi.json",
    dom_id: "#reference",
    docExpansion: "full",
    defaultModelsExpandDepth: 1,
    deepLinking: false,
    supportedSubmitMethods: [],
    validatorUrl: null
  });
});
"""
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}
CACHEABLE = {"Cache-Control": "public, max-age=3600"}


def answer(request: Request) -> Reply:
    """The page, its assets, or the document.

    Raises:
        NotFound: anything else.
    """
    name = request.path.strip("/").removeprefix("docs").strip("/")
    if name == "":
        headers = {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"}
        return Reply(PAGE, headers=headers, media_type="text/html")
    if name == "init.js":
        return Reply(INIT, headers=CACHEABLE, media_type="text/javascript")
    if name == "openapi.json":
        return Reply(openapi.document(), headers={"Cache-Control": "no-cache"})
    if name in ASSETS:
        return Reply(_asset(name), headers=CACHEABLE, media_type=ASSETS[name])
    raise NotFound("No such page of the API reference.")


@functools.cache
def _asset(name: str) -> bytes:
    return (VENDOR / name).read_bytes()
