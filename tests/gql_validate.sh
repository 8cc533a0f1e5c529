#!/usr/bin/env bash
# Every GraphQL document signalbox sends (src/providers/gql/*.graphql) must
# validate with graphql-js against both the sandbox emulator's schema and
# Railway's public schema (../shared/railway/schema.graphql, or
# $RAILWAY_PUBLIC_SCHEMA).  Installs the emulator's node modules first when
# they are missing (npm ci, as sandbox/up does).  A missing public schema
# fails the test with a message saying so; it never passes silently.
set -euo pipefail
SB_PROG=tests/gql_validate
root=${SIGNALBOX_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
. "$root/sandbox/lib/common.sh"
. "$root/sandbox/lib/install.sh"
command -v node >/dev/null || sb_die "node is not installed (apt-get install nodejs)"
ensure_npm "$root/sandbox/railway"
shopt -s nullglob
docs=("$root"/src/providers/gql/*.graphql)
(( ${#docs[@]} > 0 )) || sb_die "no documents in src/providers/gql"
exec node "$root/sandbox/railway/validate.js" "${docs[@]}"
