"""The composite indexes every declared list query needs.

A list is always filtered to one tenant and ordered by the resource's order field (or by
document id alone); each subset of the equality filters, with or without one range field
(which then leads the order), is one query shape. A shape of one field needs no composite
index (Firestore's single-field index serves it); every other shape gets one.
"""

from __future__ import annotations

import itertools
from typing import Any

from functions.resources.declaration import Declaration, Resource


def indexes_of(resource: Resource) -> list[dict[str, Any]]:
    if "list" not in resource.operations:
        return []
    shapes = []
    for size in range(len(resource.filters) + 1):
        for equals in itertools.combinations(resource.filters, size):
            for bound in (None, *resource.ranges):
                keys = [name for name, _ in resource.order_keys(bound)]
                tenant = [] if resource.tenant_in_path else [resource.tenant_field]
                fields = [*tenant, *equals, *keys]
                if len(fields) > 1:
                    shapes.append(fields)
    shapes.sort(key=lambda fields: (len(fields), fields))
    return [
        {
            "collectionGroup": resource.collection_id,
            "queryScope": "COLLECTION",
            "fields": [{"fieldPath": name, "order": "ASCENDING"} for name in fields],
        }
        for fields in shapes
    ]


def merged(existing: dict[str, Any], declaration: Declaration) -> dict[str, Any]:
    """`existing` (an indexes file) with every index the declaration needs added once;
    nothing of `existing` is removed or reordered."""
    indexes = list(existing.get("indexes", []))
    for resource in declaration.resources:
        for index in indexes_of(resource):
            if index not in indexes:
                indexes.append(index)
    return {**existing, "indexes": indexes, "fieldOverrides": existing.get("fieldOverrides", [])}
