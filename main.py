"""The deployed functions: declarations only; the `functions` package does the work.

Each function is a Firebase HTTPS function; the partner functions all go through the
package's one gate (credentials, scopes, limits, the error envelope), the owner's own
endpoints included.

Both the Firebase CLI (`firebase deploy`, the Functions emulator) and plain
functions-framework (`functions-framework --target fetchData`) load this file. Importing
it touches no network and needs no credentials.
"""

import os
from typing import Any

import functions_framework
from firebase_functions import https_fn
from flask import Request, Response
from werkzeug.exceptions import HTTPException

import functions  # noqa: F401 - before google-api-core: it silences one import-time notice
from functions.core import config
from functions.edge import owner_endpoints, triggers
from functions.edge.console import app as console_app
from functions.edge.http import views
from functions.endpoints import PARTNER_FUNCTION, Call, partner_endpoint

# functions-framework serves an instance with THREADS threads, 4 a vCPU unless set: calls
# beyond them wait in its queue while the threads wait on Firestore. As many threads as
# the instance takes calls at once (PARTNER_CONCURRENCY, 80) served 2.3 times the calls
# of 4 in `make capacity`, within the memory; a THREADS of the owner's own wins.
os.environ.setdefault("THREADS", str(config.partner_capacity().concurrency))

# --- the package's functions: every declared resource, the contract and its page --------
# Each is one decorator over a short body, as your own endpoints are (README, "Your own
# endpoints"): `partner_endpoint` from functions.endpoints under
# `https_fn.on_request(**PARTNER_FUNCTION)`. The package's own serve a routing table of
# its operations (`routes=`) and run the one the request chose (`call.serve()`).


# The first URLs serve the resource resources.toml marks `first_urls = true` (entries
# here); where none is marked, they are not defined, so not deployed.
if views.first_urls_served():

    @https_fn.on_request(**PARTNER_FUNCTION)
    @partner_endpoint(routes=views.FETCH_DATA)
    def fetchData(call: Call[Any, None]) -> Any:  # noqa: N802 - deployed name
        """GET the caller's records of the first URLs: a page, or one by id."""
        return call.serve()

    @https_fn.on_request(**PARTNER_FUNCTION)
    @partner_endpoint(routes=views.CREATE_ENTRY)
    def createEntry(call: Call[Any, None]) -> Any:  # noqa: N802 - deployed name
        """POST a new record for the caller's tenant."""
        return call.serve()

    @https_fn.on_request(**PARTNER_FUNCTION)
    @partner_endpoint(routes=views.UPDATE_ENTRY)
    def updateEntry(call: Call[Any, None]) -> Any:  # noqa: N802 - deployed name
        """PATCH one of the caller's records."""
        return call.serve()


@https_fn.on_request(**PARTNER_FUNCTION)
@partner_endpoint(routes=views.API)
def api(call: Call[Any, None]) -> Any:
    """Every declared resource: GET/POST /v1/<resource>, GET/PATCH /v1/<resource>/<id>."""
    return call.serve()


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


@https_fn.on_request(**console_app.CONSOLE_FUNCTION)
def console(req: Request) -> Response:
    """The owner's console: run partners from a browser (owners only)."""
    return console_app.serve(req)


# Your own endpoints: every function of owner/endpoints.py in an adopted app (`make adopt`
# starts it), else this repository's example, entriesSummary.
globals().update(owner_endpoints.owner_functions())

# One Firestore trigger per declared collection (`entriesChanged`, ...): the change events
# of writes the API did not make (the app's own, partners' straight on Firestore).
globals().update(triggers.record_triggers())
# Webhooks: each new event is enqueued for delivery to its partner's endpoints
# (`eventCreated`); `deliverWebhook` makes each first attempt, `deliverWebhookRetry` every
# retry and every delivery to a failing endpoint (so one partner's never stalls another's).
globals().update(triggers.delivery_functions())

# Under functions-framework (as Cloud Run runs the functions), a missing project id stops
# the start-up with one line, rather than answering 500 to every call.
views.check_start_up()

# Errors the framework answers before any function runs (an unroutable path, say) get the
# JSON envelope too. Registered on the app functions-framework builds around this module;
# a no-op when the Firebase CLI only imports it to discover the functions.
functions_framework.errorhandler(HTTPException)(views.framework_error)
