#!/usr/bin/env bash
# What the traveller site's browser tests need, installed by `make install-test`:
# - Debian's chromium (driven by Playwright for Python with executable_path): installed with
#   apt-get when missing and this user may (root, or CI=true with sudo);
# - the front-end's npm packages (axe-core for the accessibility checks, esbuild for the bundle
#   freshness check), from traveller_site/web/package-lock.json.
# Outside CI a missing piece is reported and the browser tests skip saying why; under CI they fail.
set -uo pipefail
cd "$(dirname "$0")/../.."
status=0
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
      || status=1
  elif [ "${CI:-}" = true ] && command -v sudo >/dev/null 2>&1; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null || status=1
  else
    echo "install-browser: no chromium and no way to install it here (the browser tests will skip)" >&2
  fi
fi
if command -v npm >/dev/null 2>&1; then
  if [ ! -f traveller_site/web/node_modules/axe-core/axe.min.js ]; then
    (cd traveller_site/web && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || status=1
  fi
else
  echo "install-browser: no npm (the accessibility checks will skip)" >&2
fi
if [ "$status" != 0 ] && [ "${CI:-}" = true ]; then
  echo "install-browser: could not install chromium or the npm packages" >&2
  exit 1
fi
exit 0
