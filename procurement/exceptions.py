"""Domain errors: one root, a message a user can act on, mapped to 4xx by the web layer.

Services and pure rules raise these; ``procurement.web`` turns each into its HTTP status with
the message as the body, so the message must say what went wrong and what to do about it,
in the user's words: in English, with its Chinese in the package's catalog.

A message is a template whose ``{name}`` fields are filled from keyword arguments, not an
f-string: the template is the catalog's message id, so a page in Chinese shows the
translated template filled with the same values (``ZhaocaiError.localized``).
"""

from __future__ import annotations

from collections.abc import Callable


class ZhaocaiError(Exception):
    """Root of every domain error; ``str(error)`` is the user-facing message in English.

    Args:
        message: what went wrong and, where possible, what to do about it; a template
            when ``params`` are given (``"lot {lot} is closed"``, ``lot=7``).
        field: the input field at fault, for forms and API clients.
        code: a stable machine-readable code; defaults to the class name.
        params: the values the template's fields name.
    """

    def __init__(
        self, message: str, *, field: str | None = None, code: str = "", **params: object
    ) -> None:
        self.template = message
        self.params = params
        self.message = message.format(**params) if params else message
        super().__init__(self.message)
        self.field = field
        self.code = code or type(self).__name__

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The message in the reader's language: the template translated, then filled in.

        A value that is itself a domain error (``"contract amount: {problem}"``) is put in
        in the same language. A translation that names a field the error lacks falls back
        to the English message rather than failing the page that reports the error.
        """
        translated = gettext(self.template)
        if not self.params:
            return translated
        values = {  # an error given as a value (the problem behind this one) reads the same
            name: value.localized(gettext) if isinstance(value, ZhaocaiError) else value
            for name, value in self.params.items()
        }
        try:
            return translated.format(**values)
        except (KeyError, IndexError, ValueError):
            return self.message


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
