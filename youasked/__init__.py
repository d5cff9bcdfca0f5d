"""youasked: turn what people say about a product into product decisions, and close the loop.

This package is the neutral core shared by ``streams/`` and ``api/``: event contracts, topic
declarations and settings. It imports neither faust, FastAPI nor torch.
"""

__version__ = "0.1.0"
