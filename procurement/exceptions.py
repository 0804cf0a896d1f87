"""Domain errors: one root, a message a user can act on, mapped to 4xx by the web layer.

Services and pure rules raise these; ``procurement.web`` turns each into its HTTP status with
the message as the body, so the message must say what went wrong and what to do about it,
in the user's words (English with the Chinese in brackets where the rule is Chinese).
"""

from __future__ import annotations


class ZhaocaiError(Exception):
    """Root of every domain error; ``str(error)`` is the user-facing message.

    Args:
        message: what went wrong and, where possible, what to do about it.
        field: the input field at fault, for forms and API clients.
        code: a stable machine-readable code; defaults to the class name.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or type(self).__name__


class ValidationError(ZhaocaiError):
    """Input that breaks a rule (HTTP 400/422)."""


class NotFound(ZhaocaiError):
    """No such thing, or not visible to the caller (HTTP 404)."""


class Forbidden(ZhaocaiError):
    """The caller may not do this (HTTP 403)."""


class Conflict(ZhaocaiError):
    """Not possible in the current state: illegal transition, duplicate (HTTP 409)."""


class DeadlinePassed(Conflict):
    """Too late: the server clock says the deadline has passed (ETM Art. 27-28; HTTP 409)."""
