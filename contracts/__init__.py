"""The ground floor: event contracts, topic declarations and settings, shared by every package.

Imports nothing of ours, and neither faust, FastAPI, SQLAlchemy, a Kafka client nor torch.
"""
