"""`entriesSummary`: totals of the caller's entries per currency and category over a date
range, as an owner would write an endpoint of their own.

The entries are read a page at a time (memory holds one page and the totals), the range
is capped at a year, and amounts are summed as exact decimals: `0.10 + 0.20` is `0.30`,
never `0.30000000000000004`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from firebase_functions import https_fn
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from functions.endpoints import PARTNER_FUNCTION, Bounds, Call, partner_endpoint

MAX_DAYS = 366
AMOUNT = r"^-?(0|[1-9][0-9]*)[.][0-9]{2}$"


class SummaryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date_from: dt.date = Field(alias="from", description="The first day, inclusive.")
    date_to: dt.date = Field(
        alias="to", description=f"The last day, inclusive; at most {MAX_DAYS} days on."
    )

    @field_validator("date_to")
    @classmethod
    def _within_a_year(cls, date_to: dt.date, info: ValidationInfo) -> dt.date:
        date_from = info.data.get("date_from")
        if date_from is None:
            return date_to
        if date_to < date_from:
            raise ValueError("must not be before from")
        if (date_to - date_from).days >= MAX_DAYS:
            raise ValueError(f"must be less than {MAX_DAYS} days after from")
        return date_to


class Total(BaseModel):
    currency: str = Field(examples=["EUR"])
    category: str | None = Field(description="Null for entries without one.")
    entries: int = Field(ge=1)
    amount: Annotated[str, Field(pattern=AMOUNT, examples=["1234.50"])] = Field(
        description="The exact sum, with two decimals."
    )


class Summary(BaseModel):
    date_from: dt.date = Field(serialization_alias="from")
    date_to: dt.date = Field(serialization_alias="to")
    entries: int = Field(ge=0, description="Entries summed.")
    totals: list[Total] = Field(description="By currency, then category (null first).")
    skipped: list[str] = Field(
        description="Ids of stored documents in the range that are not valid entries."
    )


@https_fn.on_request(**PARTNER_FUNCTION)
@partner_endpoint(scopes={"entries:read"}, query=SummaryQuery, response=Summary)
def entriesSummary(call: Call[None, SummaryQuery]) -> Summary:  # noqa: N802 - deployed name
    """Totals of the caller's entries per currency and category, for a date range.

    Every entry dated from `from` to `to` (inclusive, at most a year) is counted once,
    its amount summed exactly.
    """
    query = call.query
    entries = call.records("entries")
    sums: dict[tuple[str, str | None], tuple[int, Decimal]] = {}
    bounds = Bounds("date", query.date_from.isoformat(), query.date_to.isoformat())
    for entry in entries.each(bounds=bounds):
        group = (entry.values["currency"], entry.values.get("category"))
        count, amount = sums.get(group, (0, Decimal(0)))
        sums[group] = (count + 1, amount + Decimal(entry.values["amount"]))
    totals = [
        Total(currency=currency, category=category, entries=count, amount=f"{amount:.2f}")
        for (currency, category), (count, amount) in sorted(
            sums.items(), key=lambda item: (item[0][0], item[0][1] is not None, item[0][1] or "")
        )
    ]
    return Summary(
        date_from=query.date_from,
        date_to=query.date_to,
        entries=entries.read,
        totals=totals,
        skipped=entries.skipped,
    )
