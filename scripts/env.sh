# Build settings shared by every script (sourced, not run). The one place
# where the project decides how Go builds it.
export CGO_ENABLED="${CGO_ENABLED:-1}"

# GOEXPERIMENT=simd: GoMLX's pure-Go backend (the ML engine) then uses its
# AVX-512/AVX2 matmul kernels. Decided by measurement on the whole SAM
# workload, 2 cores (docs/benchmarks.md, "SAM model"): with simd the vit_b
# decoder click costs ~3× less CPU, a decoder training step ~2× less, the
# encoder several times less. The known cost of simd builds (scalar math.Exp,
# math.Tanh become 10–50× slower in threads that ran AVX-512 code) does not
# reach the model: package sam computes no Exp op in inference, and its
# softmax/GELU gradients are written without one; the synthetic generator run
# in the same process after matmuls was measured unchanged. Code that adds
# Exp/Sigmoid/Tanh graph ops to hot training paths should re-measure.
# Override with GOEXPERIMENT= (empty) to build without it.
export GOEXPERIMENT="${GOEXPERIMENT-simd}"

# The race detector turns on checkptr, which rejects the pointer arithmetic
# of GoMLX's matmul kernels ("pointer arithmetic result points to invalid
# allocation") in every package that runs a GoMLX graph. Keep checkptr for
# our own code and turn it off only for GoMLX's compute module.
case " $(go env GOFLAGS) " in
  *checkptr=0*) ;;
  *) export GOFLAGS="$(go env GOFLAGS) -gcflags=github.com/gomlx/compute/...=-d=checkptr=0" ;;
esac
