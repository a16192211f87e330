#!/usr/bin/env bash
# make drill: the fault drill on PostgreSQL (a throwaway cluster unless DATABASE_URL is given) and Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
exec ./scripts/with-postgres.sh .venv/bin/python -m bench.drill "$@"
