# shellcheck shell=sh
# cachefleet: the helpers of every node program, the agent (sh) and the aws scripts (bash): POSIX
# sh (prefixed globals, no `local`). The shipped agent and the user data carry its text; the aws
# scripts source it. Addresses come from variables, for tests (CACHEFLEET_METADATA_URL).

imds=${CACHEFLEET_METADATA_URL:-http://169.254.169.254}
retries=${CACHEFLEET_RETRIES:-5}
retry_delay=${CACHEFLEET_RETRY_DELAY:-2}

# "<prog>[<slot>]: <message>" on stderr.
log() {
  printf '%s%s: %s\n' "${prog:-cachefleet}" "${prog_slot:+[$prog_slot]}" "$*" >&2
}

# In a subshell it ends only the subshell: callers of $(...) check the status.
die() {
  log "error: $*"
  exit 1
}

# Fails naming each variable not set (empty is a value): the bundle decides them, nothing guesses.
require_env() { # <where they come from> <name>...
  re_where=$1
  shift
  re_missing=
  for re_name in "$@"; do
    eval "re_set=\${$re_name+set}"
    [ -n "$re_set" ] || re_missing="$re_missing $re_name"
  done
  [ -z "$re_missing" ] || die "$re_where sets no${re_missing} (a bundle of another cachefleet release?)"
}

# Every cloud and metadata call: up to $retries attempts, the delay doubling (at most 30 s); prints
# the output, else fails naming the call, its status and last error (curl's is on stdout, the CLI's
# on stderr). Files in $TMP_ROOT when the caller keeps one, else a temporary file.
retry() { # <what> <command> [args...]
  rt_what=$1
  shift
  if [ -n "${TMP_ROOT:-}" ]; then
    rt_base=$TMP_ROOT/retry
    rt_own=
  else
    rt_base=$(mktemp "${TMPDIR:-/tmp}/cachefleet-retry.XXXXXX") || return 1
    rt_own=1
  fi
  rt_attempt=1
  rt_delay=$retry_delay
  while :; do
    if "$@" >"$rt_base.out" 2>"$rt_base.err"; then
      cat "$rt_base.out"
      rt_status=0
      break
    else
      rt_status=$?
    fi
    if [ "$rt_attempt" -ge "$retries" ]; then
      log "error: $rt_what failed after $rt_attempt attempts (exit $rt_status): $(tail -n 3 "$rt_base.err" | tr '\n' ' ')$(head -c 400 "$rt_base.out" | tr '\n' ' ')"
      break
    fi
    log "$rt_what failed (attempt $rt_attempt of $retries, exit $rt_status); retrying in ${rt_delay}s"
    sleep "$rt_delay"
    rt_attempt=$((rt_attempt + 1))
    rt_delay=$((rt_delay * 2))
    if [ "$rt_delay" -gt 30 ]; then rt_delay=30; fi
  done
  if [ -n "$rt_own" ]; then rm -f "$rt_base" "$rt_base.out" "$rt_base.err"; fi
  return "$rt_status"
}

# An IMDSv2 token, valid six hours.
imds_token() {
  retry "instance metadata token ($imds)" curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$imds/latest/api/token"
}

imds_get() { # <token> <path below /latest/meta-data/>
  retry "instance metadata $2" curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $1" "$imds/latest/meta-data/$2"
}
