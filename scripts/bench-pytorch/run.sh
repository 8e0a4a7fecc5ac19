#!/usr/bin/env bash
# PyTorch CPU baseline for the SAM benchmarks (docs/benchmarks.md, "PyTorch
# CPU baseline"). Installs Debian's python3-torch (with OpenBLAS) if needed,
# checks the PyTorch model against the shared parity fixtures, then times
# the vit_b encoder at 1024², the decoder per prompt and a decoder training
# step on THREADS threads (default 2). Prints JSON; OUT=file also writes it.
#
# GO_BENCH=1 also runs the Go benchmarks of package sam (BenchmarkEncoderViTB,
# BenchmarkDecoderClickViTB, GOMAXPROCS=THREADS, the build settings of
# scripts/env.sh) right before, and adds their times and the Go/PyTorch
# ratios to the JSON, so that both are measured under the same conditions.
#
#   scripts/bench-pytorch/run.sh
#   GO_BENCH=1 OUT=/tmp/sam-bench.json scripts/bench-pytorch/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
threads="${THREADS:-2}"
"$here/install.sh" >&2
shared="${SYNTHFM_SHARED:-$root/../shared}"
args=(--threads "$threads")
for f in sam-tiny-a sam-tiny-pad; do
  [ -d "$shared/fixtures/$f" ] && args+=(--check-fixture "$shared/fixtures/$f")
done
if [ "${GO_BENCH:-0}" = 1 ]; then
  go_out="$(mktemp)"
  trap 'rm -f "$go_out"' EXIT
  (cd "$root" && source scripts/env.sh &&
    go test ./sam -run '^$' -bench 'EncoderViTB|DecoderClickViTB' \
      -benchtime "${GO_BENCHTIME:-3x}" -cpu "$threads" -timeout 60m) | tee "$go_out" >&2
  args+=(--go-bench-output "$go_out")
fi
export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
json=$(/usr/bin/python3 "$here/bench.py" "${args[@]}" "$@")
echo "$json"
if [ -n "${OUT:-}" ]; then echo "$json" > "$OUT"; fi
