#!/usr/bin/env bash
# PyTorch CPU baseline for the SAM benchmarks (docs/benchmarks.md, "PyTorch
# CPU baseline"). Installs Debian's python3-torch if needed, checks the
# PyTorch model against the shared parity fixtures, then times the vit_b
# encoder at 1024², the decoder per prompt and a decoder training step on
# THREADS threads (default 2). Prints JSON; with OUT=file also writes it there.
#
#   scripts/bench-pytorch/run.sh                  # 2 threads, JSON on stdout
#   THREADS=2 OUT=/tmp/pytorch.json scripts/bench-pytorch/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/install.sh" >&2
shared="${SYNTHFM_SHARED:-$here/../../../shared}"
checks=()
for f in sam-tiny-a sam-tiny-pad; do
  [ -d "$shared/fixtures/$f" ] && checks+=(--check-fixture "$shared/fixtures/$f")
done
export OMP_NUM_THREADS="${THREADS:-2}" MKL_NUM_THREADS="${THREADS:-2}" OPENBLAS_NUM_THREADS="${THREADS:-2}"
json=$(/usr/bin/python3 "$here/bench.py" --threads "${THREADS:-2}" "${checks[@]}" "$@")
echo "$json"
if [ -n "${OUT:-}" ]; then echo "$json" > "$OUT"; fi
