#!/bin/sh
# Run every experiment of the curriculum in full mode (real data) and write
# runs/experiments/report.html; extra arguments go to `glassnet experiments run`
# (e.g. --quick, --seed 1, --out DIR). Niced and single-threaded BLAS, so it
# shares a busy machine politely. Exit status: 0 when every claim agrees.
set -e
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec nice -n 10 .venv/bin/glassnet experiments run --all "$@"
