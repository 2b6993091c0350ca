#!/usr/bin/env bash
# Run every benchmark with its default sizes, one after another (they must not share the cores), and
# write the tables to bench/results/<UTC date>.md (git-ignored) as well as the terminal. It takes no
# arguments: scale a single script up with its own flags (see bench/README.md).
# About 8-10 minutes on 2 cores; needs ~4.5 GB free in $TMPDIR (the 2 GB upload plus its baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
mkdir -p bench/results
OUT="bench/results/$(date -u +%Y%m%d-%H%M).md"
failed=()
scripts=(bench_extract bench_pack bench_upload bench_jobs bench_load)
# bench_tokens and bench_templates are owned elsewhere; run them when present.
for extra in bench_tokens bench_templates; do
  if [[ -f "bench/$extra.py" ]]; then scripts+=("$extra"); fi
done
for name in "${scripts[@]}"; do
  echo "### $name" | tee -a "$OUT"
  if [[ $name == bench_tokens || $name == bench_templates ]]; then
    cmd=("$PY" -m "bench.$name")   # run as modules by their authors (they import bench.*)
  else
    cmd=("$PY" "bench/$name.py")
  fi
  "${cmd[@]}" | tee -a "$OUT" || failed+=("$name")
  echo | tee -a "$OUT"
done
echo "results written to $OUT"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
