#!/usr/bin/env bash
# Fails when a function calls a provider mutation (or reveal) without
# presenting a policy ticket in the same function: every call of
# railway_deploy, _redeploy, _restart, _stop_deployment, _rollback, _scale,
# _var_set, _var_delete or _var_reveal outside the provider itself must sit
# in a function that also calls policy_redeem (policy.h).  Functions are
# found by house style: the body opens with "{" and closes with "}" in
# column 0.  Comments are ignored.
#
#   policy_gate.sh [ROOT]      check the tree
#   policy_gate.sh --selftest  prove the check fails on a bad tree
set -u

calls='(^|[^A-Za-z0-9_])railway_(deploy|redeploy|restart|stop_deployment|rollback|scale|var_set|var_delete|var_reveal)[[:space:]]*[(]'

check_file() {	# check_file FILE: prints offenders, returns 1 when any
	perl -0777 -pe 's{/\*(.*?)\*/}{my $c = $1; $c =~ tr/\n//cd; " $c"}gse; s{//[^\n]*}{}g' "$1" |
	awk -v file="$1" -v re="$calls" '
		/^\{/ { infn = 1; body = ""; start = NR; bad = ""; next }
		infn && /^\}/ {
			if (bad != "" && body !~ /policy_redeem[[:space:]]*\(/) {
				print file ":" bad ": provider mutation without policy_redeem in the same function"
				status = 1
			}
			infn = 0; next
		}
		infn {
			body = body "\n" $0
			if (bad == "" && match($0, re)) bad = NR
		}
		!infn && match($0, re) && $0 !~ /^[a-z_ ]*\*?railway_[a-z_]+\(.*[,)]/ {
			print file ":" NR ": provider mutation outside a function"
			status = 1
		}
		END { exit status }'
}

run() {	# run ROOT
	local root=$1 status=0 f n=0
	cd "$root" || exit 2
	for f in $(find src views -name '*.c' 2>/dev/null | sort); do
		case $f in src/providers/railway*.c) continue ;; esac	# where they are defined
		n=$((n + 1))
		check_file "$f" || status=1
	done
	[ $status -eq 0 ] && echo "policy gate: ok ($n files)"
	return $status
}

if [ "${1:-}" = --selftest ]; then
	t=$(mktemp -d) || exit 2
	trap 'rm -rf "$t"' EXIT
	mkdir -p "$t/src/core" "$t/views" "$t/src/providers"
	cat >"$t/views/good.c" <<'EOF'
static void
good(struct x *x)
{
	/* railway_scale( in a comment does not count */
	if (policy_redeem(x->p, &x->t, &x->req, &e) != 0)
		return;
	railway_scale(x->rw, id, region, n, done, x, &e);
}
EOF
	cat >"$t/src/providers/railway.c" <<'EOF'
int
railway_scale(struct railway *rw, const char *id)
{
	return 0;
}
EOF
	(run "$t") >/dev/null || { echo "selftest: a good tree failed"; exit 1; }
	cat >"$t/views/bad.c" <<'EOF'
static void
sneaky(struct x *x)
{
	railway_rollback(x->rw, dep, done, x, &e);
}

static void
elsewhere(struct x *x)
{
	policy_redeem(x->p, &x->t, &x->req, &e);
}
EOF
	if out=$(run "$t"); then
		echo "selftest: a call without policy_redeem passed"
		exit 1
	fi
	case $out in *"views/bad.c:4: provider mutation without policy_redeem"*) ;;
	*) echo "selftest: wrong report: $out"; exit 1 ;; esac
	echo "policy gate selftest: ok"
	exit 0
fi
run "${1:-$(dirname "$0")/..}"
