# shellcheck shell=bash
# cachefleet: the helpers of the EC2 node scripts (src/agent/aws), sourced by each of them. The
# user data's fetch program carries a copy of this file's text (it runs before any bundle exists).
#
# Every address comes from a variable with the production default, so that a test can run the
# scripts against local stand-ins (CACHEFLEET_METADATA_URL).

imds=${CACHEFLEET_METADATA_URL:-http://169.254.169.254}
retries=${CACHEFLEET_RETRIES:-5}
retry_delay=${CACHEFLEET_RETRY_DELAY:-2}

log() { printf '%s: %s\n' "${prog:-cachefleet}" "$*" >&2; }

# Runs a command up to $retries times with a doubling delay (at most 30 s) and prints its output;
# then fails naming the command and its last error. Every cloud and metadata call goes through here.
retry() { # <what> <command> [args...]
  local what=$1 attempt=1 delay=$retry_delay err out
  shift
  err=$(mktemp "${TMPDIR:-/tmp}/cachefleet-retry.XXXXXX") || return 1
  while :; do
    if out=$("$@" 2>"$err"); then
      rm -f "$err"
      printf '%s\n' "$out"
      return 0
    fi
    if [ "$attempt" -ge "$retries" ]; then
      log "error: $what failed after $attempt attempts: $(tail -n 3 "$err" | tr '\n' ' ')"
      rm -f "$err"
      return 1
    fi
    log "$what failed (attempt $attempt of $retries); retrying in ${delay}s"
    sleep "$delay"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
    if [ "$delay" -gt 30 ]; then delay=30; fi
  done
}

imds_token() {
  retry "instance metadata token" curl -fsS --max-time 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token"
}

imds_get() { # <token> <path below /latest/meta-data/>
  retry "instance metadata $2" curl -fsS --max-time 2 -H "X-aws-ec2-metadata-token: $1" "$imds/latest/meta-data/$2"
}
