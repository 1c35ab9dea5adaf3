"""User-facing texts (Russian): what the settings themselves mean (doctor lines, notes)."""

TEXTS: dict[str, str] = {
    "settings.no_database": "SQLite только на время работы программы (USE_DATABASE=false)",
}
