"""Django's SQLite backend with a cheaper BEGIN and COMMIT (see ``base``)."""
