"""The API reference page: the OpenAPI document rendered by swagger-ui, served offline.

The renderer is a pinned release vendored into the source (`functions/edge/http/vendor/swagger-ui`,
written by `make vendor`, hash-checked by a test): no CDN at view time, so the page works
on the emulators offline and in browsers that block third-party scripts. The page runs
under a strict Content-Security-Policy: scripts and styles from this function only, no
inline script, and connections only to its own origin and the project's function URLs.

"Try it out" sends each call from the reader's browser to the functions beside the page
(same origin: `<region>-<project>.cloudfunctions.net`, or the emulator's host and path),
with the credential the reader pastes under "Authorize": kept in the page's memory only,
never stored nor sent anywhere else. On a function's own Cloud Run host (`*.run.app`),
where the page is alone, calls go to the project's cloudfunctions.net URL instead.

Asset URLs are relative (`docs/...`), so the page works at `.../docs`, at `.../docs/` and
at the root of a Cloud Run URL alike.
"""

from __future__ import annotations

import functools
from pathlib import Path

from flask import Request

from functions.contract import openapi
from functions.core import config
from functions.core.errors import NotFound
from functions.edge.http.responses import Reply

VENDOR = Path(__file__).resolve().parent / "vendor" / "swagger-ui"
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self' {functions}; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
"""The page's policy; `{functions}` is the project's function URL (`functions_origin`)."""
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
  // Calls go to the functions beside this page: its own origin and path, less "/docs".
  // On a function's own Cloud Run host the page is alone: the document's first server
  // (the project's cloudfunctions.net URL) is kept.
  var base = window.location.origin + window.location.pathname.replace(/\\/docs\\/?$/, "");
  fetch("docs/openapi.json").then(function (answer) {
    return answer.json();
  }).then(function (spec) {
    if (!/[.]run[.]app$/.test(window.location.hostname)) {
      spec.servers = [{url: base.replace(/\\/$/, ""), description: "This project"}];
    }
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#reference",
      docExpansion: "full",
      defaultModelsExpandDepth: 1,
      deepLinking: false,
      supportedSubmitMethods: ["get", "post", "patch", "delete"],
      persistAuthorization: false,
      validatorUrl: null
    });
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
        policy = PAGE_POLICY.format(functions=functions_origin())
        headers = {"Content-Security-Policy": policy, "Cache-Control": "no-cache"}
        return Reply(PAGE, headers=headers, media_type="text/html")
    if name == "init.js":
        return Reply(INIT, headers=CACHEABLE, media_type="text/javascript")
    if name == "openapi.json":
        return Reply(openapi.document(), headers={"Cache-Control": "no-cache"})
    if name in ASSETS:
        return Reply(_asset(name), headers=CACHEABLE, media_type=ASSETS[name])
    raise NotFound("No such page of the API reference.")


def functions_origin() -> str:
    """The project's functions on the internet, where "Try it out" may connect."""
    return f"https://{config.functions_region()}-{config.project_id()}.cloudfunctions.net"


@functools.cache
def _asset(name: str) -> bytes:
    return (VENDOR / name).read_bytes()
