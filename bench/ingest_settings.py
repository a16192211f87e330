"""Settings of the ingest benchmark's gunicorn: Synkro's own, with a URL conf that adds the reference view.

Bench-only (``bench.ingest`` starts gunicorn with ``DJANGO_SETTINGS_MODULE=bench.ingest_settings``).
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ingest_reference"
