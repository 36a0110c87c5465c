#!/usr/bin/env bash
# Install the benchmark-only peers (rdflib, clipspy) and matplotlib into .venv, then run
# the benchmarks. Usage: bash benchmarks/run.sh [--quick] [--plot FILE] [--markdown] ...
# The README table and plot come from:
#   bash benchmarks/run.sh --markdown --plot benchmarks/latency.png
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# One at a time, best effort: a peer without a wheel for this platform is reported as
# missing in the table, and the others still run.
grep -v '^[[:space:]]*\(#\|$\)' benchmarks/requirements.txt | while read -r requirement; do
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$requirement" \
    || echo "warning: could not install $requirement; the table will say so" >&2
done
exec .venv/bin/python benchmarks/run.py "$@"
