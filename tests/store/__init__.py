"""The store conformance suite (a package, so that its conftest shadows no other)."""
