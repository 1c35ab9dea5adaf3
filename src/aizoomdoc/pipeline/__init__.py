"""The pipeline layer: the only place wiring store, domain and LLM together (ask, ingest)."""
