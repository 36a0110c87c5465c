#!/usr/bin/env bash
# Build the documentation site into docs/_build/html (or the directory given), nitpicky,
# with every warning an error. Usage: bash scripts/docs.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/_build/html}
if [ ! -x .venv/bin/python ]; then
  "${PYTHON:-python3}" -m venv .venv
fi
if ! .venv/bin/python -c "import sirecommend, sphinx, furo, myst_parser, hypothesis, icalendar" \
  2>/dev/null; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[docs]'
fi
.venv/bin/python -m sphinx -b html -n -W --keep-going -q -d "$OUT/.doctrees" docs "$OUT"
echo "docs: $OUT/index.html"
