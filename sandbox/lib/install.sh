# shellcheck shell=bash
# First-use installs: Debian packages (apt-get only when dpkg-query says one
# is missing) and `npm ci` where node_modules is missing or older than the
# committed lockfile.

SB_DEBS_BASE="postgresql-15 postgresql-client-15 redis-server redis-tools pgbackrest openssl curl jq iproute2 util-linux nodejs"
SB_DEBS_PROM="prometheus prometheus-node-exporter prometheus-postgres-exporter prometheus-redis-exporter"

ensure_debs() {
	local p missing=() sudo='' installed
	# dpkg-query exits 1 when a package was never installed (unknown to
	# dpkg): with errexit and pipefail that would end the script silently
	installed=" $({ dpkg-query -W -f='${db:Status-Abbrev}${Package} ' "$@" 2>/dev/null || true; } | grep -o 'ii *[^ ]*' | awk '{print $2}' | tr '\n' ' '; true) "
	for p in "$@"; do
		[[ $installed == *" $p "* ]] || missing+=("$p")
	done
	(( ${#missing[@]} )) || return 0
	sb_say "installing Debian packages: ${missing[*]}"
	mkdir -p "${SB_LOGS:-/tmp}"
	(( $(id -u) == 0 )) || sudo=sudo
	# One install at a time (parallel tests); apt's own locks only fail fast.
	(
		exec 8>/tmp/signalbox-sandbox-apt.lock
		flock -w 600 8 || exit 1
		$sudo apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
				--no-install-recommends "${missing[@]}"
	) >"${SB_LOGS:-/tmp}/apt.log" 2>&1 9>&- ||
		{ tail -n 20 "${SB_LOGS:-/tmp}/apt.log" >&2; sb_die "apt-get install failed (${missing[*]})"; }
}

# npm ci in DIR when node_modules is missing or the committed lockfile is
# newer than npm's record of the last install (node_modules/.package-lock.json).
# A lock keeps two sandboxes (parallel tests) from installing at once.
ensure_npm() {
	local dir=$1 hidden log
	hidden=$dir/node_modules/.package-lock.json
	[[ -f $dir/package-lock.json ]] || sb_die "$dir has no package-lock.json"
	[[ -f $hidden && ! $dir/package-lock.json -nt $hidden ]] && return 0
	log=${SB_LOGS:-/tmp}/npm-$(basename "$dir").log
	mkdir -p "${log%/*}"	# a fresh clone has no run dir yet
	(
		exec 8>"/tmp/signalbox-sandbox-npm-$(printf '%s' "$dir" | sha256sum | cut -c1-12).lock"
		flock -w 300 8 || exit 1
		[[ -f $hidden && ! $dir/package-lock.json -nt $hidden ]] && exit 0
		echo "$SB_PROG: npm ci in ${dir#"$SB_ROOT"/} (first use or lockfile changed)"
		cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1 9>&-
	) || { tail -n 20 "$log" >&2; sb_die "npm ci failed in $dir"; }
}
