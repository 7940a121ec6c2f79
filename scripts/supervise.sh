#!/usr/bin/env bash
# Keep a command running: restart it whenever it exits (the arq worker exits when Redis goes
# away), after a back-off that grows from 1 s to 10 s while it keeps failing fast.
# SIGINT/SIGTERM are forwarded to the command, and the supervisor exits once it has stopped.
#
#   scripts/supervise.sh .venv/bin/gridctl worker
set -uo pipefail

if (($# == 0)); then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

command_pid=0
sleep_pid=0
signal=""

stop() {
    signal=$1
    if ((command_pid)); then
        kill -s "$signal" "$command_pid" 2>/dev/null
    fi
    if ((sleep_pid)); then
        kill "$sleep_pid" 2>/dev/null
    fi
}
trap 'stop INT' INT
trap 'stop TERM' TERM

backoff=1
while :; do
    started=$SECONDS
    # A session of its own keeps a Ctrl-C on the terminal from reaching the command directly:
    # only this script decides when it stops, and it is not restarted meanwhile.
    setsid "$@" &
    command_pid=$!
    # A signal that arrived before `command_pid` was set has not reached the command yet.
    [[ -n $signal ]] && kill -s "$signal" "$command_pid" 2>/dev/null
    # `wait` returns early when a trapped signal arrives: wait on until the command is gone.
    while :; do
        wait "$command_pid"
        status=$?
        kill -0 "$command_pid" 2>/dev/null || break
    done
    command_pid=0
    [[ -n $signal ]] && break

    # A run that lasted a while was healthy: start the back-off afresh.
    if ((SECONDS - started >= 30)); then
        backoff=1
    fi
    echo "supervise: '$*' exited with status $status; restarting in ${backoff}s" >&2
    sleep "$backoff" &
    sleep_pid=$!
    wait "$sleep_pid" # cut short by a signal
    sleep_pid=0
    [[ -n $signal ]] && break
    backoff=$((backoff * 2 > 10 ? 10 : backoff * 2))
done

if [[ $signal == INT ]]; then
    exit 130
fi
exit 143
