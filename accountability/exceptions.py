"""Domain errors. Services raise only these; every interface maps them the same way
(API: 400/403/404/409; CLI: non-zero exit with the message on stderr; admin: message_user)."""

from __future__ import annotations


class AccountabilityError(Exception):
    """Base class of every domain error."""

    code = "error"
    http_status = 400

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        self.message = message or self.__class__.__doc__ or self.code
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"detail": self.message, "code": self.code}


class ValidationFailed(AccountabilityError):
    """The input is invalid; nothing was written."""

    code = "invalid"
    http_status = 400

    def __init__(self, errors: dict[str, list[str] | str] | str, message: str = "Invalid input."):
        if isinstance(errors, str):
            errors = {"non_field_errors": [errors]}
        self.errors = {k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()}
        first = next(iter(self.errors.items()))
        super().__init__(f"{message} {first[0]}: {first[1][0]}" if message == "Invalid input." else message)

    def as_dict(self) -> dict:
        return {"detail": "Invalid input.", "code": self.code, "errors": self.errors}

    def __str__(self) -> str:
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())


class NotAllowed(AccountabilityError):
    """The actor may not do this."""

    code = "not_allowed"
    http_status = 403


class NotFound(AccountabilityError):
    """No such object, or not visible to the actor (the two are never distinguished)."""

    code = "not_found"
    http_status = 404


class Conflict(AccountabilityError):
    """The request conflicts with the current state."""

    code = "conflict"
    http_status = 409


class InvalidTransition(Conflict):
    """The status change is not allowed from the current status."""

    code = "invalid_transition"


class SecretUndecryptable(AccountabilityError):
    """No key in ICDEV_WEBHOOK_SECRET_KEYS decrypts the webhook's signing secret."""

    # A key was removed before `rotate_webhook_keys` ran, or the column was altered; rotating the
    # webhook's secret (admin) replaces it.

    code = "secret_undecryptable"
    http_status = 500  # the server's configuration, not the request
