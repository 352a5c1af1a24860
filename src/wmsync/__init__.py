"""wmsync: ship and cancel Walmart Marketplace orders from Adobe Commerce."""

__version__ = "0.1.0"
