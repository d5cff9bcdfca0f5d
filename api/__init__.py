"""The product-manager API (FastAPI)."""
