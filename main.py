"""The deployed functions: declarations only; the `functions` package does the work.

Both the Firebase CLI (`firebase deploy`, the Functions emulator) and plain
functions-framework (`functions-framework --target fetchData`) load this file. Importing
it touches no network and needs no credentials.
"""

from typing import Any

import functions_framework
from firebase_functions import https_fn, options
from flask import Request, Response
from werkzeug.exceptions import HTTPException

import functions  # noqa: F401 - before google-api-core: it silences one import-time notice
from functions import config
from functions.http import views

# Partners authenticate with Firebase ID tokens, checked by the functions themselves, so
# Cloud Run must let the requests reach them (invoker "public"). CORS stays off: partners
# call server to server; set CORS_ALLOWED_ORIGINS to allow browsers. CURSOR_SECRET, the
# key that signs pagination cursors, lives in Secret Manager (`firebase
# functions:secrets:set CURSOR_SECRET`); the emulators read it from .secret.local.
PARTNER_FUNCTION: dict[str, Any] = {
    "region": config.DEFAULT_REGION,
    "invoker": "public",
    "memory": options.MemoryOption.MB_256,
    "timeout_sec": 30,
    "max_instances": 20,
    "secrets": ["CURSOR_SECRET"],
}


@https_fn.on_request(**PARTNER_FUNCTION)
def fetchData(req: Request) -> Response:  # noqa: N802 - deployed name
    """GET the caller's entries: a page, or one entry by id."""
    return views.fetch_data(req)


@https_fn.on_request(**PARTNER_FUNCTION)
def createEntry(req: Request) -> Response:  # noqa: N802 - deployed name
    """POST a new entry for the caller's tenant."""
    return views.create_entry(req)


@https_fn.on_request(**PARTNER_FUNCTION)
def updateEntry(req: Request) -> Response:  # noqa: N802 - deployed name
    """PATCH one of the caller's entries."""
    return views.update_entry(req)


@https_fn.on_request(**PARTNER_FUNCTION)
def api(req: Request) -> Response:
    """Every declared resource: GET/POST /v1/<resource>, GET/PATCH /v1/<resource>/<id>."""
    return views.api(req)


@https_fn.on_request(**PARTNER_FUNCTION)
def health(req: Request) -> Response:
    """Liveness probe."""
    return views.health(req)


@https_fn.on_request(**PARTNER_FUNCTION)
def openapi(req: Request) -> Response:
    """The OpenAPI document of the partner API."""
    return views.openapi_document(req)


@https_fn.on_request(**PARTNER_FUNCTION)
def docs(req: Request) -> Response:
    """The API reference page, rendered from the OpenAPI document."""
    return views.docs_page(req)


# Under functions-framework (as Cloud Run runs the functions), a missing project id stops
# the start-up with one line, rather than answering 500 to every call.
views.check_start_up()

# Errors the framework answers before any function runs (an unroutable path, say) get the
# JSON envelope too. Registered on the app functions-framework builds around this module;
# a no-op when the Firebase CLI only imports it to discover the functions.
functions_framework.errorhandler(HTTPException)(views.framework_error)
