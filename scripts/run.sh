#!/usr/bin/env bash
# Start the whole product on the embedded default: web server + one qcluster worker + the Fortnox listener +
# sandboxes. Ctrl-C stops all of them cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}" SANDBOX_ENABLED="${SANDBOX_ENABLED:-true}"
HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$HOST:$PORT}"
# The Fortnox sandbox serves its change stream (WebSocket) here; the listener finds it through the same variable.
export FORTNOX_SANDBOX_STREAM_PORT="${FORTNOX_SANDBOX_STREAM_PORT:-8765}"

mkdir -p var
$PY manage.py migrate --noinput
$PY manage.py demo_setup

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping Synkro…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap stop INT TERM EXIT

$PY manage.py qcluster &
pids+=($!)
$PY manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
# The demo sandboxes live in the web server's memory: once it answers, point their webhooks at Synkro.
for _ in $(seq 1 60); do
  if $PY -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
       "$PUBLIC_BASE_URL/accounts/login/" 2>/dev/null; then
    $PY manage.py webhooks_register --tenant demo || echo "Webhooks could not be registered; see above."
    # Fortnox's changes within a second (its WebSocket stream, served by the demo's Fortnox once the web server
    # answers); polling every minute stays the safety net.
    $PY manage.py fortnox_listen &
    pids+=($!)
    break
  fi
  sleep 0.5
done
echo "Synkro is running at $PUBLIC_BASE_URL (Ctrl-C to stop)"
wait -n "${pids[@]}"
