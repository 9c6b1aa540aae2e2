#!/usr/bin/env bash
# Installs code-server (a real VS Code served to a browser) for the extension's end-to-end test.
# Cache-friendly: does nothing when the pinned version is already installed in $CODE_SERVER_DIR.
# Needs root for apt-get (CI runs as root); only the npm registry and Debian's packages are used.
set -euo pipefail
VERSION="${CODE_SERVER_VERSION:-4.100.3}"
DIR="${CODE_SERVER_DIR:-$HOME/.cache/lrp-lens/code-server-$VERSION}"
BIN="$DIR/node_modules/code-server/out/node/entry.js"
STAMP="$DIR/.ready"

if [ -f "$STAMP" ] && [ -f "$BIN" ]; then
  echo "code-server $VERSION already installed in $DIR"
  exit 0
fi

# Headers the native modules build against (kerberos, native-keymap, keytar-style secrets) and ripgrep,
# which VS Code's search needs and whose npm package would otherwise download a binary from GitHub.
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  need=()
  for p in libkrb5-dev libxkbfile-dev libsecret-1-dev ripgrep python3 make g++; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name":"lrp-lens-code-server","private":true}' > package.json
# --ignore-scripts: code-server's postinstall would fetch things from outside the npm registry.
npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >/dev/null

CS="$DIR/node_modules/code-server"
# Some install scripts call `npx node-gyp`: have it installed, and let npx take it without a prompt.
command -v node-gyp >/dev/null || npm install -g --no-audit --no-fund node-gyp >/dev/null
export npm_config_yes=true
cd "$CS/lib/vscode"
npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
# Build the native modules VS Code's server loads (pty, spdlog, watcher, sqlite, kerberos, ...).
npm rebuild >/dev/null 2>&1 || npm rebuild --foreground-scripts
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
# The server resolves some modules through node_modules.asar (a packaged-app path).
[ -e node_modules.asar ] || ln -s node_modules node_modules.asar

# argon2 (password hashing; loaded even with --auth none) is hoisted to the top-level node_modules.
cd "$DIR"
npm rebuild argon2 >/dev/null
touch "$STAMP"
echo "code-server $VERSION installed in $DIR"
