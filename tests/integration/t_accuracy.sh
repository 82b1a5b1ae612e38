#!/bin/bash
# Accuracy of the shipped rules, with the real binary (score.sh; no mail
# server needed): the training corpus (tests/data/inquiries: every miss
# is listed), the crisis probes (tests/data/probes), the blind validation
# set (tests/data/blind) and the fresh batch (tests/data/fresh), these two
# as aggregates only, never a message's name. Fails on any crisis miss in the corpus,
# and when any category's accuracy or tag accuracy falls below the floor
# recorded in the set's accuracy.floor. $TRIAGED names the binary
# (default ./triaged); $ACCURACY_RULES another rules folder to score.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$dir/../.." && pwd)
rc=0
bash "$dir/score.sh" "$repo/tests/data/inquiries" || rc=1
# One clinical sign per message (tests/data/probes/README): every one
# must stay crisis, every ordinary strong word must not.
echo
echo "== crisis probes"
bash "$dir/score.sh" "$repo/tests/data/probes" || rc=1
if [ -d "$repo/tests/data/blind" ]; then
	echo
	echo "== blind validation set (aggregates only)"
	bash "$dir/score.sh" --blind "$repo/tests/data/blind" || rc=1
fi
if [ -d "$repo/tests/data/fresh" ]; then
	echo
	echo "== fresh blind batch (aggregates only)"
	bash "$dir/score.sh" --blind "$repo/tests/data/fresh" || rc=1
fi
exit $rc
