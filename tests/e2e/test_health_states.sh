#!/usr/bin/env bash
# e2e (a): every endpoint of the demo config shows its real state, in the
# list and in its detail view, and a fault turned on at the server shows up
# live (and heals) without restarting the console.
source "$(dirname "$0")/lib.sh"

demo_start
tui_start 80 24 -- -c "$E2E_CONFIG"

# ---- the list ------------------------------------------------------------
# State column, name, HTTP column; a trailing '*' on the state means a check
# is in flight, so the patterns allow it.
wait_row api      '^OK\*? +api +200 '
wait_row api-http '^OK\*? +api-http +200 '
wait_row billing  '^OK\*? +billing +200 '
wait_row cache    '^DEGRADED\*? +cache +200 .*redis: fail'
wait_row payments '^DOWN\*? +payments +500 .*HTTP 500'
wait_row search   '^DOWN\*? +search +- .*timed out'
wait_row legacy   '^DOWN\*? +legacy +- .*Empty reply'
wait_row ws       '^OK\*? +ws +101 '
wait_row reports  '^DOWN\*? +reports +- .*Conn'
tui_wait_re '^ Health +9 endpoints, 4 ok, 5 failing'
# the tab strip carries the pane's badge; the single-pane layout at 80x24
tui_wait_re '^ 1 Health.*4 down.* 2 Help'
assert_no_screen 'UNKNOWN'
assert_screen '^ demo +production \[protected\]'

# ---- detail views ----------------------------------------------------------
# Row N (0-based, config order) opened with Enter; Esc goes back.  Esc is
# sent on its own: Esc and a key in one write read as Alt+key.
open_detail() {
	tui_keys g
	local i
	for ((i = 0; i < $1; i++)); do tui_keys j; done
	tui_keys Enter
	tui_wait_re "^ $2 [a-z]+://127\.0\.0\.1:[0-9]+/"
}
close_detail() {
	tui_keys Escape
	tui_wait_re '^STATE +NAME +HTTP'
}

open_detail 0 api
tui_wait_re '^ State +OK +HTTP 200, expected 200'
tui_wait_re '^ Version +v2'
tui_wait_re '^ Parts +db ok +redis ok'
tui_wait_re '^ TLS +certificate expires in (19|20) days, issuer'
tui_wait_re '✓ +Strict-Transport-Security +max-age=31536000; includeSubDomains'
tui_wait_re '✓ +Content-Security-Policy '
tui_wait_re '✓ +X-Content-Type-Options +nosniff'
tui_wait_re '✓ +X-Frame-Options '
tui_wait_re '✓ +Referrer-Policy +strict-origin-when-cross-origin'
close_detail

open_detail 2 billing
tui_wait_re '^ State +OK +HTTP 200'
tui_wait_re '✗ +Strict-Transport-Security +header not sent'
tui_wait_re "! +Content-Security-Policy +.*'unsafe-inline'"
tui_wait_re '✓ +X-Content-Type-Options +nosniff'
tui_wait_re '✗ +X-Frame-Options '
tui_wait_re '✗ +Referrer-Policy +header not sent'
close_detail

open_detail 3 cache
tui_wait_re '^ State +DEGRADED +HTTP 200'
tui_wait_re '^ Parts +db ok +redis fail'
close_detail

open_detail 4 payments
tui_wait_re '^ State +DOWN +HTTP 500, expected 200'
close_detail

open_detail 5 search
tui_wait_re '^ State +DOWN +no response'
tui_wait_re '^ Reason +timed out after 1000 ms'
close_detail

open_detail 6 legacy
tui_wait_re '^ State +DOWN +no response'
tui_wait_re '^ Reason +Empty reply from server'
close_detail

open_detail 7 ws
tui_wait_re '^ State +OK +websocket'
tui_wait_re '^ Rtt +last [0-9.]+ms'
tui_wait 'Echo: matches'
close_detail

open_detail 8 reports
tui_wait_re '^ State +DOWN +no response'
tui_wait_re '^ Reason +Connection refused'
close_detail

# ---- a live change -----------------------------------------------------------
# Redis fails behind every /health: the healthy endpoints turn DEGRADED.
# 'C' checks every endpoint now, so this does not wait for the interval.
demo_admin 'fault?name=redis&on=1'
tui_keys C
wait_row api-http '^DEGRADED\*? +api-http +200 .*redis: fail' 5
wait_row api      '^DEGRADED\*? +api +200 ' 5
wait_row payments '^DOWN\*? +payments +500 ' 5
demo_admin 'fault?name=redis&on=0'
# and heals on the next regular round (interval 5 s), no key pressed
wait_row api-http '^OK\*? +api-http +200 ' 12
wait_row api      '^OK\*? +api +200 ' 12

tui_keys q
[[ $(tui_wait_exit) == 0 ]] || die "q did not exit 0"
assert_clean_stderr
e2e_pass
