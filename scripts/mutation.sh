#!/usr/bin/env bash
# Mutation testing of the pipeline and its compiled core (pipeline/, _compile.py), the
# audit (safety.py and its facts, _facts.py) and the safety floor (_floor.py), with
# mutmut (configured in pyproject.toml, [tool.mutmut]). Not part of CI: it runs the guarding tests once per
# mutant, which takes tens of minutes on two cores. mutmut is installed here only; it is
# not a test dependency.
#
# Usage: bash scripts/mutation.sh [mutant names...]   (names: rerun only those)
# Then:  .venv/bin/mutmut results        lists the survivors
#        .venv/bin/mutmut show NAME      shows one mutant's diff
# Results are kept in mutants/ (git-ignored), so a second run only retests what changed.
# The score and the survivors judged equivalent are in docs/mutation-survivors.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# A test file named in [tool.mutmut] that does not exist would make every mutant
# "killed" by a collection error: refuse to start instead.
.venv/bin/python - <<'PY'
import pathlib, sys, tomllib

config = tomllib.loads(pathlib.Path("pyproject.toml").read_text())["tool"]["mutmut"]
missing = [t for t in config["pytest_add_cli_args_test_selection"] if not pathlib.Path(t).exists()]
if missing:
    sys.exit(f"mutation.sh: [tool.mutmut] names test files that do not exist: {missing}")
PY
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]' 'mutmut==3.8.1'
# The lighter "dev" hypothesis profile (a fixed seed is set in pyproject.toml), so that
# each surviving mutant, which runs every guarding test, costs seconds, not minutes.
export HYPOTHESIS_PROFILE=dev
unset CI
# Each test loads the knowledge afresh (tests/conftest.py), so that mutants in what the
# knowledge caches (plans, indexes) are run by every test that relies on them.
export SIRECOMMEND_COLD_KNOWLEDGE=1
.venv/bin/mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "$@"
.venv/bin/mutmut results
