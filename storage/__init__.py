"""SQLite storage: schema, migrations, the store API."""
