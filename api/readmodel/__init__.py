"""The SQL read model: tables, projection of the topics into them, and migrations."""
