"""Kafka helpers shared by the worker, the API and the command line: creating the declared
topics, reading a topic back, measuring a consumer group's lag. kafka-python only; no faust,
no FastAPI, no domain. The lag rule itself (:mod:`messaging.offsets`) imports no client, so the
aiokafka worker counts by it too.
"""
