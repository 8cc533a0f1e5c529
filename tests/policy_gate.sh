#!/usr/bin/env bash
# Fails when a provider mutation (or reveal) can be reached without a
# policy ticket: every call of railway_deploy, _redeploy, _restart,
# _stop_deployment, _rollback, _scale, _var_set, _var_delete, _var_reveal,
# _volume_backup_create, _volume_backup_restore or _volume_schedule_set,
# or of pg_stats_cancel (pg_cancel_backend), backups_take, backups_drill,
# backups_restore or flag_store_set (flags.h), outside where they are defined
# must sit in a function that calls policy_redeem (policy.h), or in a
# static function whose every call in its file is in such a function (a
# dispatcher the redeeming function calls).
# Functions are found by house style: the name at column 0 (return type on
# the line above), the body from "{" to "}" at column 0.  Comments are
# ignored.
#
#   policy_gate.sh [ROOT]      check the tree
#   policy_gate.sh --selftest  prove the check fails on bad trees
set -u

checker=$(cat <<'PERL'
local $/;
my $file = $ARGV[0];
open(my $fh, "<", $file) or die "$file: $!";
my $src = <$fh>;
# comments may name anything; code may not (line numbers are kept)
$src =~ s{/\*(.*?)\*/}{my $c = $1; $c =~ tr/\n//cd; " $c"}gse;
$src =~ s{//[^\n]*}{}g;
my $mut = qr/(?<![A-Za-z0-9_])(?:railway_(?:deploy|redeploy|restart|stop_deployment|rollback|scale|var_set|var_delete|var_reveal|volume_backup_create|volume_backup_restore|volume_schedule_set)|pg_stats_cancel|backups_take|backups_drill|backups_restore|flag_store_set)\s*\(/;
my $redeem = qr/(?<![A-Za-z0-9_])policy_redeem\s*\(/;
my @lines = split /\n/, $src, -1;
my (@fns, $cur, $bad);
for my $i (0 .. $#lines) {
	my $l = $lines[$i];
	if (!$cur && $l =~ /^\{/) {
		# the name line: the nearest line above starting with NAME(
		my ($name, $static) = ("?", 0);
		for (my $k = $i - 1; $k >= 0 && $k >= $i - 4; $k--) {
			if ($lines[$k] =~ /^([A-Za-z_]\w*)\s*\(/) {
				$name = $1;
				$static = ($k > 0 && $lines[$k - 1] =~ /^static\b/) ? 1 : 0;
				last;
			}
		}
		$cur = { name => $name, static => $static, body => "", line => 0 };
	} elsif ($cur && $l =~ /^\}/) {
		push @fns, $cur;
		undef $cur;
	} elsif ($cur) {
		$cur->{body} .= "$l\n";
		$cur->{line} ||= $i + 1 if $l =~ $mut;
	} elsif ($l =~ $mut && $l !~ /^[A-Za-z_]\w*\s*\(/ && $l !~ /;\s*$/) {
		print "$file:", $i + 1, ": provider mutation outside a function\n";
		$bad = 1;
	}
}
for my $f (@fns) {
	next unless $f->{line};
	next if $f->{body} =~ $redeem;
	my $n = $f->{name};
	my @callers = grep { $_ != $f && $_->{body} =~ /(?<![A-Za-z0-9_])\Q$n\E\s*\(/ } @fns;
	next if $f->{static} && @callers && !grep { $_->{body} !~ $redeem } @callers;
	print "$file:$f->{line}: provider mutation in $n(), which neither calls " .
	    "policy_redeem nor is a static helper called only after it\n";
	$bad = 1;
}
exit($bad ? 1 : 0);
PERL
)

run() {	# run ROOT
	local root=$1 status=0 f n=0
	cd "$root" || exit 2
	for f in $(find src views -name '*.c' 2>/dev/null | sort); do
		case $f in src/providers/railway*.c | src/sources/pg_stats.c) continue ;; esac	# where they are defined
		n=$((n + 1))
		perl -e "$checker" "$f" || status=1
	done
	[ $status -eq 0 ] && echo "policy gate: ok ($n files)"
	return $status
}

if [ "${1:-}" = --selftest ]; then
	t=$(mktemp -d) || exit 2
	trap 'rm -rf "$t"' EXIT
	mkdir -p "$t/src/core" "$t/views" "$t/src/providers"
	cat >"$t/views/good.c" <<'C'
static void
good(struct x *x)
{
	/* railway_scale( in a comment does not count */
	if (policy_redeem(x->p, &x->t, &x->req, &e) != 0)
		return;
	railway_scale(x->rw, id, region, n, done, x, &e);
}
C
	cat >"$t/src/providers/railway.c" <<'C'
int
railway_scale(struct railway *rw, const char *id)
{
	return 0;
}
C
	cat >"$t/src/core/helper.c" <<'C'
static int
send(struct job *j, struct err *e)
{
	return railway_scale(j->rw, j->svc, j->region, j->n, done, j, e);
}

static void
answered(struct x *x)
{
	if (policy_redeem(x->p, &x->t, &x->req, &e) != 0)
		return;
	send(x->job, &e);
}
C
	(run "$t") >/dev/null || { echo "selftest: a good tree failed"; exit 1; }
	# an exported helper could be called from anywhere
	sed 's/^static int$/int/' "$t/src/core/helper.c" >"$t/src/core/helper2.c"
	if (run "$t") >/dev/null; then
		echo "selftest: an exported helper passed"
		exit 1
	fi
	rm "$t/src/core/helper2.c"
	# a static helper also called from a function that does not redeem
	cat >>"$t/src/core/helper.c" <<'C'

static void
shortcut(struct x *x)
{
	send(x->job, &e);
}
C
	if (run "$t") >/dev/null; then
		echo "selftest: a helper called without a ticket passed"
		exit 1
	fi
	head -n 13 "$t/src/core/helper.c" >"$t/h" && mv "$t/h" "$t/src/core/helper.c"
	cat >"$t/views/bad.c" <<'C'
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
C
	if out=$(run "$t"); then
		echo "selftest: a call without policy_redeem passed"
		exit 1
	fi
	case $out in *"views/bad.c:4: provider mutation in sneaky()"*) ;;
	*) echo "selftest: wrong report: $out"; exit 1 ;; esac
	echo "policy gate selftest: ok"
	exit 0
fi
run "${1:-$(dirname "$0")/..}"
