from cascada.hazards import earthquake, tsunami  # noqa: F401  (registers the models)
