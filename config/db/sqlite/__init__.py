"""Django's SQLite backend with a write gate: one writing transaction at a time, queued in the kernel."""
