#!/usr/bin/env bash
# e2e (f): `signalbox check --json` runs one round of every check and exits
# 1 when something is degraded or down, 0 when everything is healthy and 2
# on a bad configuration; its output is valid JSON that says what each
# endpoint is and why, and it never touches the terminal.
source "$(dirname "$0")/lib.sh"

demo_start

# run_check NAME ARGS...: stdout to $E2E_DIR/NAME.out, stderr to NAME.err,
# sets STATUS and MS (wall time).
run_check() {
	local name=$1 t0
	shift
	t0=$EPOCHREALTIME
	STATUS=0
	"$SIGNALBOX_BIN" "$@" >"$E2E_DIR/$name.out" 2>"$E2E_DIR/$name.err" </dev/null || STATUS=$?
	MS=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", (b - a) * 1000}')
	log "$name: exit $STATUS in $MS ms"
	if grep -q $'\e' "$E2E_DIR/$name.out" "$E2E_DIR/$name.err"; then
		die "$name: terminal escape sequences in the output of a non-interactive command"
	fi
}

# json_assert FILE JS: evaluate JS with `j` bound to FILE's parsed JSON; it
# must return true (a string return is the failure message).
json_assert() {
	node -e '
		const fs = require("node:fs");
		let j;
		try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
		catch (e) { console.error("not valid JSON: " + e.message); process.exit(1); }
		const by = {};
		for (const e of (j.endpoints || [])) by[e.name] = e;
		const r = new Function("j", "by", "return (" + process.argv[2] + ");")(j, by);
		if (r !== true) { console.error(typeof r === "string" ? r : "assertion failed: " + process.argv[2]); process.exit(1); }
	' "$1" "$2" || die "$(basename "$1"): JSON check failed: $2"
}

# ---- the demo config: every state -> exit 1 -----------------------------------
run_check all check --json -c "$E2E_CONFIG"
((STATUS == 1)) || die "check --json with failing endpoints exited $STATUS, expected 1"
# one round, bounded by the slowest check (search: 1 s timeout), not by the interval
((MS < 5000)) || die "one round took $MS ms"
out=$E2E_DIR/all.out
json_assert "$out" 'Array.isArray(j.endpoints) && j.endpoints.length === 9'
json_assert "$out" 'j.status === "DOWN"'
json_assert "$out" 'j.endpoints.map(e => e.name).join(",") === "api,api-http,billing,cache,payments,search,legacy,ws,reports"'
json_assert "$out" 'by.api.state === "OK" && by.api.http_status === 200 && by.api.version === "v2"'
json_assert "$out" 'by.api.components.db === "ok" && by.api.components.redis === "ok"'
json_assert "$out" 'by.api.tls.days_left >= 18 && by.api.tls.days_left <= 20'
json_assert "$out" 'Object.values(by.api.security_headers).every(h => h.level === "ok")'
json_assert "$out" 'by["api-http"].state === "OK"'
json_assert "$out" 'by.billing.state === "OK"'
json_assert "$out" 'by.billing.security_headers["Strict-Transport-Security"].level === "fail"'
json_assert "$out" 'by.billing.security_headers["Content-Security-Policy"].level === "warn" && /unsafe-inline/.test(by.billing.security_headers["Content-Security-Policy"].why)'
json_assert "$out" 'by.billing.security_headers["X-Content-Type-Options"].level === "ok"'
json_assert "$out" 'by.cache.state === "DEGRADED" && by.cache.components.redis === "fail" && /redis/.test(by.cache.reason)'
json_assert "$out" 'by.payments.state === "DOWN" && by.payments.http_status === 500 && /500/.test(by.payments.reason)'
json_assert "$out" 'by.search.state === "DOWN" && /timed out/.test(by.search.reason)'
json_assert "$out" 'by.legacy.state === "DOWN" && /Empty reply/.test(by.legacy.reason)'
json_assert "$out" 'by.ws.state === "OK" && by.ws.type === "websocket" && by.ws.latency_ms > 0'
json_assert "$out" 'by.reports.state === "DOWN" && /refused/i.test(by.reports.reason)'

# ---- only healthy endpoints -> exit 0 ---------------------------------------------
healthy=$(write_config healthy.yml \
	'{ name: api, url: "@HTTPS@/health", ca_file: ca.pem }' \
	'{ name: api-http, url: "@HTTP@/health" }' \
	'{ name: slow, url: "@HTTP@/slow" }' \
	"{ name: ws, url: \"ws://127.0.0.1:$E2E_PORT_BASE/ws\", type: websocket }")
run_check healthy check --json -c "$healthy"
((STATUS == 0)) || { cat "$E2E_DIR/healthy.out" >&2; die "check --json with healthy endpoints exited $STATUS, expected 0"; }
json_assert "$E2E_DIR/healthy.out" 'j.status === "OK" && j.endpoints.length === 4 && j.endpoints.every(e => e.state === "OK")'
json_assert "$E2E_DIR/healthy.out" 'by.slow.latency_ms >= 700'

# a fault at the server turns the same config into exit 1, and back
demo_admin 'fault?name=redis&on=1'
run_check faulty check --json -c "$healthy"
((STATUS == 1)) || die "check --json with redis failing exited $STATUS, expected 1"
json_assert "$E2E_DIR/faulty.out" 'by["api-http"].state === "DEGRADED" && by["api-http"].components.redis === "fail"'
demo_admin 'fault?name=redis&on=0'
run_check healed check --json -c "$healthy"
((STATUS == 0)) || die "check --json after the fault healed exited $STATUS, expected 0"

# ---- a bad config -> exit 2, a message, no JSON pretending all is well -------------
bad=$E2E_DEMO_RUN/bad.yml
sed 's/^  endpoints:$/  endpionts:/' "$E2E_CONFIG" >"$bad"
run_check bad check --json -c "$bad"
((STATUS == 2)) || die "check --json with a bad config exited $STATUS, expected 2"
grep -q "bad.yml:[0-9]*:[0-9]*: unknown key 'endpionts'" "$E2E_DIR/bad.err" ||
	{ cat "$E2E_DIR/bad.err" >&2; die "no file:line:col message for the bad config"; }
if grep -q '"status"' "$E2E_DIR/bad.out"; then
	die "a bad config still printed a status"
fi
run_check missing check --json -c "$E2E_DIR/no-such-file.yml"
((STATUS == 2)) || die "check --json with a missing config exited $STATUS, expected 2"
grep -q 'no-such-file.yml' "$E2E_DIR/missing.err" || die "the missing file is not named"

# the plain text form agrees on the exit status
run_check text check -c "$E2E_CONFIG"
((STATUS == 1)) || die "check (text) exited $STATUS, expected 1"
grep -Eq '^DEGRADED +cache ' "$E2E_DIR/text.out" || die "check (text) does not list cache as DEGRADED"
e2e_pass
