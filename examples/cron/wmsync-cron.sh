#!/usr/bin/env bash
# Run one wmsync job from cron: `wmsync-cron.sh sync` or `wmsync-cron.sh ship-inbox`.
#
# - Secrets: read from an env file only the user can read (WMSYNC_ENV_FILE, default
#   ~/.config/wmsync/cron.env); nothing secret is on the command line or in the crontab.
# - Logs: every run appends one JSON line to $WMSYNC_LOG_DIR/<job>.log ({"time", "job", "exit_code",
#   "output": the command's --json document}); stderr (messages, summaries) goes to <job>.err.log.
# - Overlap: a second copy of the same job exits at once (flock). Different jobs, and an operator's own
#   `wmsync ship`, may run at the same time: wmsync leases each order in its journal.
# - Exit codes (README): 0 fine; 2 a file was refused (moved to rejected/); 3 configuration or credentials;
#   5 a service was unavailable (the next run retries); 7 some rows failed (the file stays in the inbox: the
#   next run retries only what is not done); 8 orders disagree in ways wmsync must not fix. Codes a person
#   must look at are also printed as one line on stderr, which cron mails.
set -uo pipefail
umask 077

job="${1:-}"
case "$job" in
    sync|ship-inbox) ;;
    *) echo "usage: $0 sync|ship-inbox" >&2; exit 2 ;;
esac

env_file="${WMSYNC_ENV_FILE:-$HOME/.config/wmsync/cron.env}"
if [ ! -f "$env_file" ]; then
    echo "wmsync-cron: $env_file not found (copy cron.env.example)" >&2
    exit 3
fi
if [ -n "$(find "$env_file" -perm /077 2>/dev/null)" ]; then
    echo "wmsync-cron: $env_file is readable by others; chmod 600 it" >&2
    exit 3
fi
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a

wmsync_bin="${WMSYNC_BIN:-wmsync}"
log_dir="${WMSYNC_LOG_DIR:-$HOME/.local/state/wmsync}"
inbox="${WMSYNC_INBOX:-$HOME/wmsync-inbox}"
mkdir -p "$log_dir"

exec 9>"$log_dir/$job.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
    exit 0  # the previous run of this job is still going
fi

# run_logged NAME ARGS...: run wmsync with --json, append one JSON line to NAME.log, return its exit code
run_logged() {
    local name="$1"; shift
    local out code when
    when="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    out="$("$wmsync_bin" "$@" --json 2>>"$log_dir/$name.err.log")"
    code=$?
    # --json prints one document; JSON strings hold no raw newlines, so joining the lines keeps it valid
    out="$(printf '%s' "$out" | tr -d '\n')"
    printf '{"time":"%s","job":"%s","exit_code":%d,"output":%s}\n' \
        "$when" "$name" "$code" "${out:-null}" >>"$log_dir/$name.log"
    return "$code"
}

alert() {  # one line on stderr: cron mails it
    echo "wmsync-cron $job: $*" >&2
}

worst=0
note() { [ "$1" -gt "$worst" ] && worst="$1"; return 0; }

if [ "$job" = sync ]; then
    run_logged sync sync --lock-timeout 30
    code=$?
    note "$code"
    case "$code" in
        0) ;;
        7) alert "some pushes failed (exit 7); the next run retries them — see $log_dir/sync.log" ;;
        8) alert "orders disagree in ways wmsync must not fix (exit 8) — see $log_dir/sync.log" ;;
        5) ;;  # a service was unavailable; the window did not move, the next run covers it
        *) alert "exit $code — see $log_dir/sync.err.log" ;;
    esac
    exit "$worst"
fi

# ship-inbox: every *.csv / *.jsonl in the inbox, oldest first
mkdir -p "$inbox/done" "$inbox/rejected"
shopt -s nullglob
files=("$inbox"/*.csv "$inbox"/*.jsonl)
[ "${#files[@]}" -eq 0 ] && exit 0
while IFS= read -r file; do
    run_logged ship-inbox ship --from-file "$file" --lock-timeout 60
    code=$?
    note "$code"
    base="$(basename "$file")"
    case "$code" in
        0) mv -- "$file" "$inbox/done/$(date -u +%Y%m%dT%H%M%SZ)-$base" ;;
        2) mv -- "$file" "$inbox/rejected/$(date -u +%Y%m%dT%H%M%SZ)-$base"
           alert "$base refused, nothing sent (exit 2): every bad line is in $log_dir/ship-inbox.err.log" ;;
        7) alert "$base: some rows failed (exit 7); it stays in the inbox and the next run retries only those" ;;
        3) alert "configuration or credentials problem (exit 3) — see $log_dir/ship-inbox.err.log"; break ;;
        *) ;;  # unavailable or interrupted: the file stays, the next run continues
    esac
done < <(ls -1tr -- "${files[@]}")
exit "$worst"
