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

#: Walmart SKU -> Commerce SKU: the sandbox store lists one item on Walmart under another SKU
#: (its ``skus`` table); the seed uses it for the orders of that item.
SKU_MAP: dict[str, str] = {"LAMP-4-WMT": "WM-LAMP-004"}
