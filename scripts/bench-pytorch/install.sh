#!/usr/bin/env bash
# Installs Debian's PyTorch (CPU) for the PyTorch baseline benchmark. Safe to
# re-run. Tests never need it; only scripts/bench-pytorch/run.sh does.
#
# libopenblas0-pthread matters: without it Debian's libtorch falls back to the
# reference (netlib) BLAS, which makes every matmul tens of times slower and
# the baseline meaningless. The OpenBLAS package registers itself as the
# system's libblas.so.3 alternative.
set -euo pipefail
if /usr/bin/python3 -c 'import torch' 2>/dev/null && dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  exit 0
fi
sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
candidate() { apt-cache policy python3-torch 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
case "$(candidate)" in ""|"(none)") $sudo_cmd apt-get update -qq ;; esac
case "$(candidate)" in ""|"(none)")
  echo "python3-torch is not available from this machine's apt sources" >&2
  exit 1 ;;
esac
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-torch python3-numpy libopenblas0-pthread
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
update-alternatives --query libblas.so.3-x86_64-linux-gnu | sed -n 's/^Value: /BLAS: /p'
