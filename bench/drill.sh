#!/usr/bin/env bash
# make drill: the fault drill on PostgreSQL (a throwaway cluster unless DATABASE_URL is given) and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${DATABASE_URL:-}" == postgres* ]]; then ./scripts/debian-packages.sh redis-server
else ./scripts/debian-packages.sh postgresql redis-server; fi
exec ./scripts/with-postgres.sh .venv/bin/python -m bench.drill "$@"
