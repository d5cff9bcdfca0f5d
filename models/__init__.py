"""Pure domain and ML for youasked: no faust, Kafka client, FastAPI or database driver here."""
