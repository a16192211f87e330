"""The sync engine: pure rules and services, no HTTP of its own (clients come from the systems)."""
