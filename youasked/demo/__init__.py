"""The bundled demo: a sample of comments about one product, and the command that replays it."""
