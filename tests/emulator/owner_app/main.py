"""Owner endpoints that the tests declare, each in a few lines, as an owner would in their
main.py: served by the Functions emulator beside the package's functions when the stack
runs tests (a codebase of its own; never served by `make serve`, never deployed)."""

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the package, as a vendored copy

from firebase_functions import https_fn
from pydantic import BaseModel, ConfigDict, Field

from functions.endpoints import PARTNER_FUNCTION, Call, NotFound, partner_endpoint

OPTIONS = {**PARTNER_FUNCTION, "secrets": []}  # lists no records: no cursor secret


class NewOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=100)


class Order(BaseModel):
    id: str
    partner: str
    item: str
    quantity: int


class OrderId(BaseModel):
    id: str = Field(pattern=r"^[0-9a-f]{32}$")


@https_fn.on_request(**OPTIONS)
@partner_endpoint(
    scopes={"orders:write"},
    methods=("POST",),
    body=NewOrder,
    response=Order,
    creates=True,
    idempotent=True,
)
def placeOrder(call: Call[NewOrder, None]) -> tuple[int, Order]:  # noqa: N802
    """Place an order; its audit record is committed with it."""
    order = Order(id=uuid.uuid4().hex, partner=call.caller.partner_id, **call.body.model_dump())
    call.work.create(f"ownerOrders/{order.id}", order.model_dump())
    call.work.audit("create", "orders", order.id, fields=("item", "quantity"))
    return 201, order


@https_fn.on_request(**OPTIONS)
@partner_endpoint(scopes={"orders:read"}, query=OrderId, response=Order, errors=(NotFound,))
def getOrder(call: Call[None, OrderId]) -> Order:  # noqa: N802
    """One of the caller's orders."""
    found = call.work.database.document(f"ownerOrders/{call.query.id}").get()
    if not found.exists or found.get("partner") != call.caller.partner_id:
        raise NotFound("No such order.")
    return Order.model_validate(found.to_dict())


@https_fn.on_request(**OPTIONS)
@partner_endpoint(scopes={"orders:read"}, response=Order)
def brokenReport(call: Call[None, None]) -> Order:  # noqa: N802
    """Fails as code does: the caller gets a 500 that reveals nothing."""
    raise RuntimeError("database password is hunter2 at /srv/app/report.py")
