"""The store conformance suite: every promise of the durable run store, on SQLite and Postgres."""
