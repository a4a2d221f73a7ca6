"""CAIO delegation chains (D317): ordered delegates, each delegated by the one before.

Rules: no person appears twice (no cycles, and the CAIO never delegates back to themselves); a
delegate's scope is never wider than its delegator's; non-delegable powers (waivers, M-25-21 §4(a)(ii))
are never delegated; a delegate's period lies inside its delegator's.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accountability.config import policy

LINK_FIELDS = {"delegate_name", "delegate_email", "scope", "scope_ref", "powers", "start_date", "end_date"}


def _date(value, where: str, errors: list[str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.append(f"{where}: '{value}' is not a date (YYYY-MM-DD).")
        return None


def normalise_chain(
    chain, *, caio_email: str, caio_scope: str, caio_start: dt.date, caio_end: dt.date | None
) -> tuple[list[dict], list[str]]:
    """Validate a chain and return it in canonical form (ISO dates, lower-case e-mails, delegated_by
    filled from the previous link) together with a list of messages (empty when valid)."""
    rules = policy()["caio"]
    rank = {scope: i for i, scope in enumerate(rules["scope_order"])}
    delegable = set(rules["delegable_powers"])
    non_delegable = set(rules["non_delegable_powers"])
    errors: list[str] = []
    if not isinstance(chain, list):
        return [], ["The delegation chain must be a list of delegates."]

    out: list[dict] = []
    seen = {caio_email.strip().lower()}
    prev_email, prev_scope, prev_start, prev_end = caio_email.strip().lower(), caio_scope, caio_start, caio_end
    prev_powers = delegable  # the CAIO holds every delegable power
    for i, link in enumerate(chain, start=1):
        where = f"delegate {i}"
        if not isinstance(link, dict):
            errors.append(f"{where}: must be an object.")
            continue
        unknown = set(link) - LINK_FIELDS - {"delegated_by"}
        if unknown:
            errors.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
        name = str(link.get("delegate_name", "")).strip()
        email = str(link.get("delegate_email", "")).strip().lower()
        if not name:
            errors.append(f"{where}: delegate_name is required.")
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"{where}: delegate_email '{email}' is not a valid e-mail address.")
        if email in seen:
            errors.append(f"{where}: {email} already holds this authority higher in the chain (a cycle).")
        seen.add(email)
        scope = link.get("scope")
        if scope not in rank:
            errors.append(f"{where}: scope must be one of {', '.join(rules['scope_order'])}.")
        elif prev_scope in rank and rank[scope] > rank[prev_scope]:
            errors.append(f"{where}: scope '{scope}' is wider than the delegator's scope '{prev_scope}'.")
        powers = link.get("powers", [])
        if not isinstance(powers, list) or not powers:
            errors.append(f"{where}: list at least one delegated power.")
            powers = []
        for power in powers:
            if power in non_delegable:
                errors.append(f"{where}: '{power}' authority is not delegable (M-25-21 §4(a)(ii)).")
            elif power not in delegable:
                errors.append(f"{where}: unknown power '{power}'.")
            elif power not in prev_powers:
                errors.append(f"{where}: '{power}' was not delegated to the delegator.")
        start = _date(link.get("start_date"), f"{where} start_date", errors)
        end = _date(link.get("end_date"), f"{where} end_date", errors)
        if link.get("start_date") in (None, ""):
            errors.append(f"{where}: start_date is required.")
        if start and end and end < start:
            errors.append(f"{where}: end_date is before start_date.")
        if start and prev_start and start < prev_start:
            errors.append(f"{where}: starts before the delegator's authority ({prev_start.isoformat()}).")
        if prev_end and (end is None or end > prev_end):
            errors.append(f"{where}: must end no later than the delegator's authority ({prev_end.isoformat()}).")
        out.append(
            {
                "delegate_name": name,
                "delegate_email": email,
                "scope": scope,
                "scope_ref": str(link.get("scope_ref", "")).strip(),
                "powers": list(powers),
                "start_date": start.isoformat() if start else None,
                "end_date": end.isoformat() if end else None,
                "delegated_by": prev_email,
            }
        )
        prev_email, prev_scope, prev_start, prev_end = email, scope, start or prev_start, end or prev_end
        prev_powers = {p for p in powers if p in delegable}
    return out, errors
