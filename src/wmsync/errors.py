"""One exception tree. Each class carries its exit code; the CLI turns them into exit statuses in one place.

| code | meaning |
|-----:|---------|
| 0 | done |
| 1 | internal error |
| 2 | refused before sending: bad input, usage, or an order whose state does not allow it; nothing was sent |
| 3 | configuration or credentials problem |
| 4 | sent and rejected by Walmart or Commerce |
| 5 | service unavailable after retries |
| 6 | sent but not confirmed before the timeout |
| 7 | batch finished with failures |
| 8 | the two sides disagree (status) |
| 130 | interrupted |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wmsync.workflows.results import WriteOutcome


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    REFUSED = 2
    CONFIG = 3
    REJECTED = 4
    UNAVAILABLE = 5
    UNCONFIRMED = 6
    BATCH_FAILURES = 7
    DIVERGED = 8
    INTERRUPTED = 130


def worst(codes: Iterable[int]) -> int:
    """When several exit codes apply, the highest-numbered one below 130 wins (130 only if alone)."""
    codes = list(codes)
    below = [c for c in codes if c < ExitCode.INTERRUPTED]
    if below:
        return max(below)
    return max(codes) if codes else ExitCode.OK


class WmsyncError(Exception):
    """Base of every error wmsync reports to the user."""

    exit_code: int = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None, correlation_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.correlation_id = correlation_id

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message, "exit_code": int(self.exit_code)}
        if self.hint:
            out["hint"] = self.hint
        if self.correlation_id:
            out["correlation_id"] = self.correlation_id
        return out


class UsageError(WmsyncError):
    """Bad input: nothing was sent."""

    exit_code = ExitCode.REFUSED


class OrderNotFoundError(UsageError):
    """No Commerce order has that number or Walmart PO."""


class RefusedError(WmsyncError):
    """The order's state (or a Walmart rule) does not allow the operation: nothing was sent."""

    exit_code = ExitCode.REFUSED


class ConfigError(WmsyncError):
    """Configuration or credentials problem."""

    exit_code = ExitCode.CONFIG


class MissingSecretError(ConfigError):
    pass


class AuthError(ConfigError):
    """The service refused our credentials (401/403)."""


class ApiError(WmsyncError):
    """A service answered with an error we did not retry: the request was rejected."""

    exit_code = ExitCode.REJECTED

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status: int,
        code: str | None = None,
        field: str | None = None,
        errors: Sequence[dict[str, Any]] = (),
        hint: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, correlation_id=correlation_id)
        self.service = service
        self.status = status
        self.code = code
        self.field = field
        self.errors = list(errors)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out["service"] = self.service
        out["status"] = self.status
        if self.code:
            out["code"] = self.code
        if self.field:
            out["field"] = self.field
        return out


class NotFoundError(ApiError):
    pass


class CommerceRefusedError(ApiError):
    """Commerce answered `false` to a cancel (or similar): it refused without saying why."""


class UnavailableError(WmsyncError):
    """The service could not be reached, or kept failing, after retries."""

    exit_code = ExitCode.UNAVAILABLE


class OutcomeUnknownError(UnavailableError):
    """A write that is not safe to repeat may or may not have reached the server.

    The workflow resolves it by re-reading state in the same run; only if that fails does it surface (exit 5),
    and then a re-run finishes the work.
    """


class RateLimitedError(UnavailableError):
    pass


class MalformedResponseError(UnavailableError):
    """The service answered something that is not the JSON we expect (an HTML error page, a cut body)."""


class UnconfirmedError(WmsyncError):
    """Sent, but not confirmed before the timeout. ``outcome``: the result so far (``result: pending``), printed
    as on success before the error."""

    exit_code = ExitCode.UNCONFIRMED

    def __init__(self, message: str, *, outcome: WriteOutcome | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.outcome = outcome


class LeaseTimeoutError(WmsyncError):
    """Another wmsync run is working on the same order."""

    exit_code = ExitCode.UNAVAILABLE
