"""Fixed, public sandbox values. The credentials below are not secrets: they only open the sandbox."""

from __future__ import annotations

BASE_URL = "https://sandbox.wmsync.invalid"
STORE_CODE = "default"

CREDENTIALS: dict[str, str] = {
    "WALMART_CLIENT_ID": "sandbox-client-id",
    "WALMART_CLIENT_SECRET": "sandbox-client-secret",
    "COMMERCE_TOKEN": "sandbox-integration-token",
    "COMMERCE_CONSUMER_KEY": "sandbox-consumer-key",
    "COMMERCE_CONSUMER_SECRET": "sandbox-consumer-secret",
    "COMMERCE_ACCESS_TOKEN": "sandbox-access-token",
    "COMMERCE_ACCESS_TOKEN_SECRET": "sandbox-access-token-secret",
}
