#!/usr/bin/env bash
# Starts the desktop app. Without a display (a server, a CI box) it runs under Xvfb so that
# `make run` still works; the window is then only visible to screenshots.
set -euo pipefail
bin=$1; shift
if [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
  echo "No display found: running the app under Xvfb (headless)." >&2
  exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- "$bin" "$@"
fi
exec "$bin" "$@"
