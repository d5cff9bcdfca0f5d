"""Dialogue measures from reply threads: working time, escalation phrases, thread state,
weekly aggregates and the service that turns one thread comment into its effects.
"""
