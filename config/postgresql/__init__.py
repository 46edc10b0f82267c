"""Django's PostgreSQL backend, with Switchboard's one change to how it inserts rows (``compiler``)."""
