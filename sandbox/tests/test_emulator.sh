#!/usr/bin/env bash
# The Railway API emulator's own tests (node --test): schema subset of the
# public schema, auth and rate limits, deploys with a stand-in app, logs,
# volume backups with real pgBackRest, teardown.  Installs what they need
# first, as sandbox/up does.
set -euo pipefail
SB_PROG=sandbox/tests/test_emulator
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
. "$SB_HERE/lib/install.sh"
# shellcheck disable=SC2086
ensure_debs $SB_DEBS_BASE
ensure_npm "$SB_HERE/railway"
cd "$SB_HERE/railway"
exec node --test --test-concurrency=1 test/*.test.js
