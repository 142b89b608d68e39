#!/usr/bin/env bash
# Installs everything the project needs into this folder: Debian's chromium (for the
# browser tests), a Python virtual environment (.venv) and the npm libraries.
# Safe to run again; each step is skipped when already done.
#
# The pinned packages (requirements.txt) install on Python 3.11 and 3.12 only (scikit-learn
# 1.9 and jax need 3.11 or newer; tensorflow 2.19 has no wheels for 3.13). python3 is used
# unless PYTHON names another: PYTHON=python3.11 ./setup.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
SUPPORTED="3.11 or 3.12"

# the Python first, before anything is installed
version=$("$PYTHON" --version 2>&1) || version=""
version=$(sed -n 's/^Python \([0-9]*\.[0-9]*\).*/\1/p' <<<"$version")
if [ -z "$version" ]; then
  echo "setup.sh: $PYTHON is not a Python this script can run: install Python $SUPPORTED and name it, e.g. PYTHON=python3.11 ./setup.sh" >&2
  exit 2
fi
case "$version" in
  3.11|3.12) ;;
  *) echo "setup.sh: $PYTHON is Python $version, but the pinned packages install on Python $SUPPORTED only: install one and name it, e.g. PYTHON=python3.11 ./setup.sh" >&2
     exit 2 ;;
esac

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# a .venv made by another Python (another minor version, whose compiled packages do not
# load here) or left broken is made again from scratch
made_by=$(sed -n 's/^version\(_info\)\? *= *\([0-9]*\.[0-9]*\).*/\2/p' .venv/pyvenv.cfg 2>/dev/null | head -1 || true)
if [ -x .venv/bin/python ] && [ "$made_by" = "$version" ]; then
  :
elif [ -e .venv ]; then
  echo "setup.sh: .venv was made by Python ${made_by:-of an unknown version}; making it again with $PYTHON ($version)" >&2
  "$PYTHON" -m venv --clear .venv
else
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
