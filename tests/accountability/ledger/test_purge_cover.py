"""Whether a missing payload was purged as recorded is decided in one sweep over the candidates and
the purge records' seq ranges. It must decide exactly what the plain rule decides (a later record,
made at or after the entry expired, whose ranges include the entry), whatever the ranges' overlaps,
order and timing, including permanent entries (no expiry) and records older than the entry."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from accountability.ledger.offline.verifier import LogVerifier, _Purged

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
days = st.integers(0, 6).map(lambda d: T0 + dt.timedelta(days=d))
ranges = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12)).map(lambda r: (r[0], r[0] + r[1])), max_size=3)
records = st.lists(st.tuples(st.integers(0, 60), days, ranges), max_size=6)
candidates = st.lists(st.tuples(st.integers(0, 50), st.one_of(st.none(), days)), max_size=30, unique_by=lambda c: c[0])


def _plainly_covered(candidate: _Purged, cover) -> bool:
    """The rule as written: some record after the entry, made at or after its expiry, names it."""
    return candidate.expires_at is not None and any(
        rec_seq > candidate.seq and candidate.expires_at <= at and any(a <= candidate.seq <= b for a, b in spans)
        for rec_seq, at, spans in cover
    )


@settings(max_examples=400, deadline=None)
@given(candidates, records)
@example([(5, T0)], [(5, T0, [(0, 9)])])  # a record at the entry's own seq is not after it
@example([(5, T0)], [(6, T0, [(0, 5)])])  # a range that ends at the entry covers it
@example([(5, T0)], [(6, T0, [(6, 9)])])  # one that starts after it does not
@example([(5, T0 + dt.timedelta(days=1))], [(6, T0, [(0, 9)])])  # nor a purge before the expiry
@example([(5, None)], [(6, T0, [(0, 9)])])  # nor any purge of a permanent entry
def test_the_sweep_decides_what_the_plain_rule_decides(found, cover):
    verifier = LogVerifier.__new__(LogVerifier)  # only the purge bookkeeping is exercised
    verifier.purged_candidates = [_Purged(seq, f"LED-{seq}", expires) for seq, expires in found]
    verifier.purge_cover = cover
    expected = {c.seq for c in verifier.purged_candidates if _plainly_covered(c, cover)}
    assert verifier._covered_by_purges() == expected


def test_a_log_purged_daily_for_years_is_checked_in_one_pass():
    verifier = LogVerifier.__new__(LogVerifier)
    verifier.purged_candidates = [_Purged(s, f"LED-{s}", T0 + dt.timedelta(days=s // 100)) for s in range(200_000)]
    # One purge record a day, each covering the day's entries, recorded after them.
    verifier.purge_cover = [
        (200_000 + d, T0 + dt.timedelta(days=d, hours=1), [(d * 100, d * 100 + 99)]) for d in range(2000)
    ]
    verifier.purge_cover.append((199_999, T0 + dt.timedelta(days=9000), [(199_999, 199_999)]))  # not after it
    covered = verifier._covered_by_purges()
    assert len(covered) == 200_000
    assert verifier.purged_candidates[-1].seq in covered  # by its own day's record, not the earlier one
