"""Pure helpers with no models: shared by every app."""
