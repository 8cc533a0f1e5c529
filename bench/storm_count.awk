# bench/storm_count.awk - reads `signalbox logs all --follow --json` (one
# object per line) and accounts for the sandbox's log-storm lines: per
# replica, how many storm lines arrived, the lowest and highest "seq" (the
# replica's own storm line counter) and how many seqs in between never came.
# Also the ingest lag: the emulator's "timestamp" minus the app's own "time"
# (both UTC, same day assumed), in ms.
#
#   awk -v countfile=F -f bench/storm_count.awk
# writes the number of lines read to F every 1000 lines (for a sampler) and
# a summary on stdout at the end.

function sod(s,    h, m, x) {	# "...THH:MM:SS.fff...Z" -> seconds of day
	if (!match(s, /T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]+)?/))
		return -1
	x = substr(s, RSTART + 1, RLENGTH - 1)
	h = substr(x, 1, 2) + 0
	m = substr(x, 4, 2) + 0
	return h * 3600 + m * 60 + substr(x, 7) + 0
}

{
	n++
	if (countfile != "" && n % 1000 == 0) {
		printf "%d\n", n > countfile
		close(countfile)
	}
	if (index($0, "\"storm\":true") == 0)
		next
	storm++
	rep = "?"
	if (match($0, /"replicaId":"[^"]*"/))
		rep = substr($0, RSTART + 13, 8)
	seq = -1
	if (match($0, /"seq":"?[0-9]+/)) {
		x = substr($0, RSTART + 6, RLENGTH - 6)
		gsub(/"/, "", x)
		seq = x + 0
	}
	if ((rep SUBSEP seq) in seen) {
		dup++
		next
	}
	seen[rep, seq] = 1
	cnt[rep]++
	if (!(rep in lo) || seq < lo[rep]) lo[rep] = seq
	if (!(rep in hi) || seq > hi[rep]) hi[rep] = seq
	# ingest lag: emulator timestamp - app time
	if (match($0, /"time":"[^"]*"/)) {
		a = sod(substr($0, RSTART, RLENGTH))
		if (match($0, /"timestamp":"[^"]*"/)) {
			b = sod(substr($0, RSTART, RLENGTH))
			if (a >= 0 && b >= 0) {
				lag = (b - a) * 1000
				if (lag < -43200000) lag += 86400000
				lagsum += lag; lagn++
				if (lag > lagmax) lagmax = lag
			}
		}
	}
}

END {
	if (countfile != "") {
		printf "%d\n", n > countfile
		close(countfile)
	}
	printf "lines %d storm %d duplicates %d\n", n, storm, dup + 0
	for (r in cnt) {
		span = hi[r] - lo[r] + 1
		printf "replica %s storm_lines %d seq %d..%d missing_between %d\n", r, cnt[r], lo[r], hi[r], span - cnt[r]
		missing += span - cnt[r]
	}
	printf "missing_between_total %d\n", missing + 0
	if (lagn)
		printf "ingest_lag_ms mean %.0f max %.0f\n", lagsum / lagn, lagmax
}
