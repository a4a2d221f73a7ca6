"""The role-matrix rule shared by every capability's write matrix: an allowed persona's write records its
governance act in the ledger; anyone else gets NotAllowed (an outsider NotFound, revealing nothing) and
nothing changes, in the database or the ledger."""

from __future__ import annotations

import pytest

from accountability.exceptions import NotAllowed, NotFound


def assert_write_obeys_roles(call, world, actor, persona_name: str, allowed, snapshot, ledger_count) -> None:
    """Run ``call(world, actor)`` and assert the outcome the persona's role allows."""
    before, ledger_before = snapshot(), ledger_count()
    if persona_name in allowed:
        call(world, actor)
        assert ledger_count() > ledger_before, "an allowed write records its governance act"
    else:
        expected = NotFound if persona_name == "outsider" else NotAllowed
        with pytest.raises(expected):
            call(world, actor)
        assert snapshot() == before
        assert ledger_count() == ledger_before
