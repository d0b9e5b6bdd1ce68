#!/usr/bin/env bash
# Install Debian's Chromium for browser tests and print its path.
#
# Nothing is started: tests launch the browser themselves. As root, Chromium
# needs --no-sandbox, and on a machine without internet access it should also
# get --disable-background-networking --disable-component-update so it does not
# try to reach Google's hosts.
# Stdout gets one line: export PEROXO_TEST_CHROMIUM=/usr/bin/chromium
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$SCRIPT_DIR/common.sh"

CHROMIUM=/usr/bin/chromium

start_ms="$(now_ms)"
if [ ! -x "$CHROMIUM" ]; then
  apt_install chromium
  [ -x "$CHROMIUM" ] || die "$CHROMIUM is missing after installing the chromium package"
  log "installed in $(elapsed_since "$start_ms") s"
fi

version="$("$CHROMIUM" --version 2>/dev/null)" || die "$CHROMIUM --version failed"
log "ready: $version"
emit_env PEROXO_TEST_CHROMIUM "$CHROMIUM"
