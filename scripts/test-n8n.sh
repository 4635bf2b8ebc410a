#!/usr/bin/env bash
# npm run test:n8n: the shipped workflow (n8n/episode-generation.json) in a real n8n, against the built app.
# n8n is installed once into a cache folder outside the project and reused (docs/n8n.md).
set -euo pipefail
cd "$(dirname "$0")/.."

N8N_VERSION=1.123.81
export N8N_CACHE_DIR="${N8N_CACHE_DIR:-$HOME/.cache/many-futures/n8n-$N8N_VERSION}"
export N8N_BIN="$N8N_CACHE_DIR/node_modules/.bin/n8n"

installed_version() {
  [ -x "$N8N_BIN" ] && "$N8N_BIN" --version 2>/dev/null | tail -1 || true
}

if [ "$(installed_version)" != "$N8N_VERSION" ]; then
  echo "Installing n8n $N8N_VERSION into $N8N_CACHE_DIR (about five minutes, once)..."
  mkdir -p "$N8N_CACHE_DIR"
  # xlsx's usual tarball comes from a CDN that is unreachable here; the registry's 0.18.5 does the same job.
  cat > "$N8N_CACHE_DIR/package.json" <<JSON
{ "name": "n8n-cache", "private": true, "dependencies": { "n8n": "$N8N_VERSION" }, "overrides": { "xlsx": "npm:xlsx@0.18.5" } }
JSON
  (cd "$N8N_CACHE_DIR" && npm install --ignore-scripts --no-audit --no-fund >install.log 2>&1 && npm rebuild sqlite3 >>install.log 2>&1) || {
    tail -50 "$N8N_CACHE_DIR/install.log"
    exit 1
  }
  if [ "$(installed_version)" != "$N8N_VERSION" ]; then
    echo "n8n $N8N_VERSION did not install; see $N8N_CACHE_DIR/install.log" >&2
    exit 1
  fi
fi

npm run build
npx vitest run --config vitest.n8n.config.ts "$@"
