"""Document ids the store makes itself (`store.client.new_id`): Firestore's shape, drawn
without bias, never repeated."""

from __future__ import annotations


def test_document_ids_are_firestores_shape_and_do_not_repeat() -> None:
    import re

    from functions.store.client import new_id

    made = {new_id() for _ in range(5000)}
    assert len(made) == 5000
    assert all(re.fullmatch(r"[A-Za-z0-9]{20}", one) for one in made)
    letters = "".join(made)
    counts = [letters.count(c) for c in "Az9"]
    assert all(1200 < n < 2050 for n in counts)  # about 100,000 / 62 = 1,613 each: no bias
