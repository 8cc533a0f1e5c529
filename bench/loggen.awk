# bench/loggen.awk - a deterministic mixed log for bench/logs.sh.
#
#   awk -v lines=1000000 -f bench/loggen.awk >FILE
#
# About 95 bytes a line: 40 % pino-style JSON, 25 % logfmt, 20 % plain text
# with an ISO time and a level word, 15 % combined access log; one entry in
# 500 is an ERROR followed by a four-line Java stack trace.  Levels: about
# 2 % error, 5 % warn, the rest info/debug.  "lines" counts physical lines.
BEGIN {
	if (lines == "") lines = 1000000
	srand(42)
	split("api web worker cron auth billing", svc, " ")
	split("GET POST PUT DELETE", meth, " ")
	split("/api/users /api/orders /health /api/items/42 /login /static/app.js", path, " ")
	split("connection reset by peer|cache miss for key user:1234|request completed|upstream timeout after 3000ms|retrying job in 5s|payment declined by gateway", msgs, "|")
	t = 1718150400	# 2024-06-12T00:00:00Z
	n = 0
	while (n < lines) {
		r = rand()
		t += 0.01
		s = int(t); ms = int((t - s) * 1000)
		lvr = rand()
		lvl = lvr < 0.02 ? "error" : lvr < 0.07 ? "warn" : lvr < 0.8 ? "info" : "debug"
		m = msgs[1 + int(rand() * 6)]
		sv = svc[1 + int(rand() * 6)]
		if (n % 500 == 499 && n + 5 <= lines) {
			printf "%s.%03dZ ERROR [%s] unhandled exception in request handler id=%d\n", iso(s), ms, sv, n
			print "java.lang.IllegalStateException: order " n " is in a bad state"
			print "\tat com.acme.orders.OrderService.process(OrderService.java:214)"
			print "\tat com.acme.http.Router.dispatch(Router.java:88)"
			print "\tat java.base/java.lang.Thread.run(Thread.java:833)"
			n += 5
			continue
		}
		if (r < 0.40) {
			lv = lvl == "error" ? 50 : lvl == "warn" ? 40 : lvl == "info" ? 30 : 20
			printf "{\"level\":%d,\"time\":%d%03d,\"pid\":%d,\"svc\":\"%s\",\"msg\":\"%s\",\"req\":%d}\n", lv, s, ms, 1000 + n % 7, sv, m, n
		} else if (r < 0.65) {
			printf "time=%s.%03dZ level=%s svc=%s msg=\"%s\" dur=%dms req=%d\n", iso(s), ms, lvl, sv, m, int(rand() * 900), n
		} else if (r < 0.85) {
			printf "%s.%03dZ %s [%s] %s (req %d)\n", iso(s), ms, toupper(lvl), sv, m, n
		} else {
			st = lvl == "error" ? 502 : lvl == "warn" ? 404 : 200
			printf "10.0.%d.%d - - [%s] \"%s %s HTTP/1.1\" %d %d \"-\" \"curl/8.5\"\n", n % 250, n % 200, clf(s), meth[1 + n % 4], path[1 + n % 6], st, 100 + n % 5000
		}
		n++
	}
}

function iso(s,   d, h, mi, se) {
	# within 2024-06-12..13 only (the generator's range)
	d = 12 + int((s - 1718150400) / 86400)
	se = (s - 1718150400) % 86400
	h = int(se / 3600); mi = int((se % 3600) / 60); se = se % 60
	return sprintf("2024-06-%02dT%02d:%02d:%02d", d, h, mi, se)
}

function clf(s,   d, h, mi, se) {
	d = 12 + int((s - 1718150400) / 86400)
	se = (s - 1718150400) % 86400
	h = int(se / 3600); mi = int((se % 3600) / 60); se = se % 60
	return sprintf("%02d/Jun/2024:%02d:%02d:%02d +0000", d, h, mi, se)
}
