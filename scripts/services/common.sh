# shellcheck shell=bash
# Shared helpers for the service scripts in this folder. Source it, don't run it.
#
# After sourcing, stdout is redirected to stderr so that install and start-up
# output never mixes with the `export NAME=value` lines, which go to fd 3
# (the original stdout) through emit_env.

PEROXO_SERVICES_DIR="${PEROXO_SERVICES_DIR:-${HOME:?HOME is not set; set PEROXO_SERVICES_DIR}/.cache/peroxo/services}"
SERVICE_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)"

exec 3>&1 1>&2

log() {
  printf '[%s] %s\n' "$SERVICE_NAME" "$*" >&2
}

die() {
  printf '[%s] error: %s\n' "$SERVICE_NAME" "$*" >&2
  exit 1
}

emit_env() {
  printf 'export %s=%s\n' "$1" "$2" >&3
}

now_ms() {
  date +%s%3N
}

# Print the seconds elapsed since a now_ms value, e.g. "3.42".
elapsed_since() {
  local start="$1" end
  end="$(now_ms)"
  awk -v ms="$((end - start))" 'BEGIN { printf "%.2f", ms / 1000 }'
}

is_root() {
  [ "$(id -u)" -eq 0 ]
}

# Take an exclusive lock for the rest of the calling script. Concurrent runs of
# the same script (up.sh twice, or by two test jobs) then start one instance.
lock_service() {
  local lock_file="$1"
  mkdir -p "$(dirname "$lock_file")"
  exec 9>"$lock_file"
  if ! flock -w 600 9; then
    die "timed out after 600 s waiting for lock $lock_file"
  fi
}

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Install the given Debian packages if any is missing. apt-get update runs only
# in that case. A lock file serializes installs started in parallel by up.sh,
# and DPkg::Lock::Timeout makes apt wait for any other apt run.
apt_install() {
  local missing=() pkg sudo=()
  for pkg in "$@"; do
    package_installed "$pkg" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0

  if ! is_root; then
    command -v sudo >/dev/null 2>&1 || die "missing packages ${missing[*]}: run as root or install them with apt-get"
    sudo=(sudo -n)
  fi

  mkdir -p "$PEROXO_SERVICES_DIR"
  (
    flock -w 1200 8 || die "timed out after 1200 s waiting for $PEROXO_SERVICES_DIR/apt.lock"
    # Another script may have installed them while this one waited.
    local still_missing=()
    for pkg in "${missing[@]}"; do
      package_installed "$pkg" || still_missing+=("$pkg")
    done
    [ "${#still_missing[@]}" -eq 0 ] && exit 0

    log "installing Debian packages: ${still_missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get -qq -o DPkg::Lock::Timeout=600 update \
      || die "apt-get update failed"
    "${sudo[@]}" apt-get -qq -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${still_missing[@]}" >/dev/null \
      || die "apt-get install ${still_missing[*]} failed"
  ) 8>"$PEROXO_SERVICES_DIR/apt.lock"
}

# Succeed when something accepts TCP connections on 127.0.0.1:PORT.
tcp_port_open() {
  (exec 7<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Succeed when PID exists and is not a zombie. kill -0 also succeeds on a
# zombie, and an orphaned daemon stays one until PID 1 reaps it, which took
# about 2 s on the Debian 12 VMs these scripts were tested on.
process_running() {
  local state
  state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Succeed when PID is running and its command line contains PATTERN.
pid_matches() {
  local pid="$1" pattern="$2"
  [ -n "$pid" ] && process_running "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# Wait up to SECONDS for PID to exit or become a zombie. Fails if it is still running.
wait_for_exit() {
  local pid="$1" seconds="$2"
  for _ in $(seq 1 $((seconds * 5))); do
    process_running "$pid" || return 0
    sleep 0.2
  done
  ! process_running "$pid"
}

# Wait up to 10 s until PID is gone entirely, zombie included. A server that
# finds its own old PID still present in its lock file refuses to start.
wait_for_reap() {
  local pid="$1"
  for _ in $(seq 1 50); do
    [ -e "/proc/$pid" ] || return 0
    sleep 0.2
  done
}

read_pid_file() {
  [ -f "$1" ] && tr -dc '0-9' <"$1" || true
}

# Print the resident memory of PID in MiB, or "?" when it is gone.
rss_mib() {
  if [ -r "/proc/$1/status" ]; then
    awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$1/status"
  else
    printf '?'
  fi
}
