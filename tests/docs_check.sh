#!/usr/bin/env bash
# The key list in signalbox(1) is generated from the action table; fail when
# it is out of date (regenerate with: make man).
set -u
bin=${SIGNALBOX_BIN:?}
page=${SIGNALBOX_SOURCE_DIR:?}/docs/signalbox.1
want=$("$bin" keys --mdoc)
have=$(sed -n '/^\.\\" BEGIN KEYS/,/^\.\\" END KEYS/p' "$page" | sed '1d;$d')
if [ "$want" != "$have" ]; then
	echo "docs/signalbox.1 key list is stale; run 'make man'"
	diff <(echo "$have") <(echo "$want")
	exit 1
fi
# the page must also render without mandoc/groff warnings
if command -v groff >/dev/null; then
	warn=$(groff -mandoc -Tutf8 -ww -z "$page" 2>&1)
	[ -z "$warn" ] || { echo "$warn"; exit 1; }
fi
echo "docs: signalbox.1 key list matches $(echo "$want" | wc -l) actions"
