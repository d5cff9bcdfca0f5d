"""Integration tests run against the real broker: the ``kafka_bootstrap`` fixture is in
``tests/conftest.py``, shared with the browser tests."""
