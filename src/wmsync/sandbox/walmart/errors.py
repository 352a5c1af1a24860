"""Walmart's error shapes and the errors the simulated API answers."""

from __future__ import annotations

from typing import Any

from wmsync.sandbox.common import Reply
from wmsync.sandbox.walmart.base import GATEWAY, INVALID_CONTENT, INVALID_INFO, ORDER_API


def error_entry(
    code: str,
    description: str,
    *,
    field: str = "",
    info: str = INVALID_INFO,
    category: str = "DATA",
    severity: str = "ERROR",
) -> dict[str, Any]:
    return {
        "code": code,
        "field": field,
        "description": description,
        "info": info,
        "severity": severity,
        "category": category,
        "causes": [],
        "errorIdentifiers": {"entry": []},
    }


class WalmartError(Exception):
    """A Walmart error response; ``shape`` is ``"errors"`` (orders API) or ``"gateway"`` (``{"error": [...]}``)."""

    def __init__(
        self,
        status: int,
        errors: list[dict[str, Any]],
        *,
        shape: str = "errors",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join(str(e.get("description")) for e in errors))
        self.status = status
        self.errors = errors
        self.shape = shape
        self.headers = headers or {}

    @classmethod
    def one(cls, status: int, code: str, description: str, **kwargs: Any) -> WalmartError:
        shape = kwargs.pop("shape", "errors")
        headers = kwargs.pop("headers", None)
        return cls(status, [error_entry(code, description, **kwargs)], shape=shape, headers=headers)

    @classmethod
    def invalid(cls, description: str, field: str = "") -> WalmartError:
        return cls.one(400, INVALID_CONTENT, description, field=field)

    def reply(self) -> Reply:
        body: Any = {"error": self.errors} if self.shape == "gateway" else {"errors": {"error": self.errors}}
        return Reply(self.status, body, headers=dict(self.headers))


def not_found(description: str = "No Orders found for the given search criteria") -> WalmartError:
    return WalmartError.one(
        404,
        f"CONTENT_NOT_FOUND.{ORDER_API}",
        description,
        field="purchaseOrderId",
        info="Requested content could not be found.",
        category="REQUEST",
    )


def throttled(headers: dict[str, str]) -> WalmartError:
    return WalmartError.one(
        429,
        f"REQUEST_THRESHOLD_VIOLATED.{GATEWAY}",
        "Request threshold violated",
        info="The number of requests has exceeded the allowed threshold. Retry after some time.",
        category="REQUEST",
        headers=headers,
    )
