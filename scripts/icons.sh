#!/usr/bin/env bash
# Regenerates every app icon from the one source image, icons/source.svg:
#   icons/source.png             1024 px master (rsvg-convert, ImageMagick or the Tauri CLI's own SVG renderer)
#   icons/{32x32,64x64,128x128,128x128@2x,icon}.png, icon.icns, icon.ico   (`tauri icon`: window,
#                                 macOS and Windows bundles)
#   icons/hicolor/{16,24,48,256,512}.png  the remaining freedesktop hicolor sizes for .deb/.rpm
# Offline; run it after editing source.svg and commit the results.
set -euo pipefail
cd "$(dirname "$0")/.."

src=icons/source.svg
master=icons/source.png
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The CLI logs every file it writes; show that only when it fails.
tauri() { npx --no-install tauri "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; return 1; }; }

# 1. SVG -> 1024 px PNG master.
if command -v rsvg-convert >/dev/null 2>&1; then
  rsvg-convert -w 1024 -h 1024 -b none "$src" -o "$master"
elif [[ -x /usr/bin/convert ]] && /usr/bin/convert -version 2>/dev/null | grep -q ImageMagick; then
  /usr/bin/convert -background none -density 384 "$src" -resize 1024x1024 "PNG32:$master"
else
  # The Tauri CLI renders SVG itself (resvg).
  tauri icon "$src" -o "$tmp/master" --png 1024
  cp "$tmp/master/1024x1024.png" "$master"
fi

# 2. The standard Tauri set from the master (desktop files only; no mobile or Store logos).
tauri icon "$master" -o "$tmp/set"
for f in 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png icon.icns icon.ico; do
  cp "$tmp/set/$f" "icons/$f"
done

# 3. Hicolor sizes the standard set lacks (16, 24, 48, 256; 512 = icon.png, kept for symmetry).
mkdir -p icons/hicolor
tauri icon "$master" -o "$tmp/hicolor" --png 16,24,48,256,512
for s in 16 24 48 256 512; do
  cp "$tmp/hicolor/${s}x${s}.png" "icons/hicolor/${s}x${s}.png"
done

echo "icons regenerated from $src:"
ls -l icons icons/hicolor | grep -v '^total'
