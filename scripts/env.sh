# Build settings shared by every script (sourced, not run). The one place
# where the project decides how Go builds it.
export CGO_ENABLED="${CGO_ENABLED:-1}"
