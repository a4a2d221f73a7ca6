"""Keyset (cursor) pages for the ledger's lists. A page reads at most ``page_size + 1`` rows past the
cursor's key, in key order, with no ``COUNT(*)``: page-number pagination
counted the whole filtered log on every call (350 ms to 1.1 s at 1,000,000 entries), and its page
numbers shifted as entries arrived. A cursor names the last key seen, so a new entry never moves or
repeats what the next page returns."""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import urlencode

from rest_framework.exceptions import NotFound as DRFNotFound
from rest_framework.pagination import Cursor, CursorPagination

from accountability.exceptions import ValidationFailed

from ..schema import parse_key


class LedgerCursorPagination(CursorPagination):
    """DRF's cursor pagination over a unique key, with bad ``cursor`` or ``page_size`` answered 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-seq"
    invalid_cursor_message = "Not a cursor this list issued; follow the next or previous link as given."

    def get_page_size(self, request) -> int:
        """The caller's ``page_size`` (1 or more; above the maximum it is capped, as before), else the
        default. DRF would silently fall back to the default for anything it cannot read."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationFailed({self.page_size_query_param: ["Must be an integer."]}) from None
        if size < 1:
            raise ValidationFailed({self.page_size_query_param: [f"Must be between 1 and {self.max_page_size}."]})
        return min(size, self.max_page_size)

    def decode_cursor(self, request) -> Cursor | None:
        """The cursor, checked: a malformed one is bad input (400), not a missing page (DRF's 404).
        DRF's decoder skips characters that are not base64 and ignores unknown fields, so a valid
        cursor must also be exactly what this list issues for its value: no offset (the ordering is
        unique, so none is ever issued, and one would be an OFFSET scan) and a 64-bit key as position."""
        try:
            cursor = super().decode_cursor(request)
        except DRFNotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or (
                cursor.offset == 0
                and _is_key(cursor.position)
                and _issued(cursor) == request.query_params[self.cursor_query_param]
            )
        if not valid:
            raise ValidationFailed({self.cursor_query_param: [str(self.invalid_cursor_message)]})
        return cursor


def _is_key(position) -> bool:
    """Whether a cursor's position (text, or None for "from the end") is a 64-bit key."""
    if position is None:
        return True
    return parse_key(position) is not None


def _issued(cursor: Cursor) -> str:
    """The cursor parameter DRF's ``encode_cursor`` writes for an offset-free ``cursor``."""
    fields = {"r": "1"} if cursor.reverse else {}
    if cursor.position is not None:
        fields["p"] = cursor.position
    return b64encode(urlencode(fields).encode("ascii")).decode("ascii")


class EntryPagination(LedgerCursorPagination):
    """Integrated entries, newest first by ``seq`` (the primary key)."""

    ordering = "-seq"


class PendingPagination(LedgerCursorPagination):
    """The integrator's queue, in arrival order by ``id``."""

    ordering = "id"
