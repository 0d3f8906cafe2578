#!/usr/bin/env bash
# heartbeat.sh LABEL COMMAND...: run COMMAND; where standard output is not a terminal (CI),
# print a line every HEARTBEAT_S seconds (default 30) while it runs, so a long install is
# never silent. Exits with the command's status.
set -u
label=$1
shift
if [ -t 1 ]; then
	exec "$@"
fi
every=${HEARTBEAT_S:-30}
start=$(date +%s)
(
	# Its sleep is ended with it, so nothing holds the output open once the command is done.
	trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
	while :; do
		sleep "$every" &
		sleeper=$!
		wait "$sleeper"
		echo "[install] $label: still running ($(($(date +%s) - start)) s)"
	done
) &
beat=$!
"$@"
status=$?
kill "$beat" 2>/dev/null
wait "$beat" 2>/dev/null
exit "$status"
