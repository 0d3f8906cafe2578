"""Your own partner endpoints: what an owner imports to write one (`partner_endpoint` over
a function of main.py, as the package's own functions are written; see README, "Your own
endpoints"). The decorator itself lives at the edge, `functions.edge.decorator`; this
module is the name owners' code keeps across versions."""

from functions.auth import Caller
from functions.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    ValidationFailed,
)
from functions.core.models import Bounds, Record
from functions.domain.owner import Work
from functions.edge.decorator import PARTNER_FUNCTION, Call, partner_endpoint

__all__ = [
    "PARTNER_FUNCTION",
    "BadRequest",
    "Bounds",
    "Call",
    "Caller",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "Record",
    "ServiceUnavailable",
    "ValidationFailed",
    "Work",
    "partner_endpoint",
]
