"""Item pipelines: extraction, validation, dedup and storage of archived articles."""
