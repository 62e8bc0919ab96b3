#!/usr/bin/env bash
# The digit U-Net natively on one CPU thread: burn (examples/unet_grid.rs) against PyTorch eager
# (scripts/bench_unet_torch.py) on the same shipped weights, and how close each comes to
# burn-flex's own matrix-product rate. Needs PyTorch (pip install torch); not part of CI, whose
# machines do not have it.
set -euo pipefail
cd "$(dirname "$0")/.."
burn=$(cargo run --release --locked --quiet --example unet_grid)
echo "$burn"
if ! torch=$(python3 scripts/bench_unet_torch.py 2>&1); then
  echo "PyTorch side not run: $torch" | tail -1
  exit 0
fi
echo "$torch"
python3 - "$burn" "$torch" <<'PY'
import re, sys
text = sys.argv[1] + "\n" + sys.argv[2]
num = lambda pattern: float(re.search(pattern + r"[^:]*: ([0-9.]+)", text).group(1))
be, bg = num("burn one evaluation"), num("burn grid")
te, tg = num("torch one evaluation"), num("torch grid")
flops = num("flops grid")
peak = max(float(x) for x in re.findall(r"burn matmul \S+: ([0-9.]+)", text))
print(f"one evaluation at batch 16: burn {be:.2f} ms, PyTorch {te:.2f} ms: burn takes {be / te:.2f}x PyTorch's time")
print(f"grid of 16 (DDIM-25): burn {bg:.0f} ms, PyTorch {tg:.0f} ms: burn takes {bg / tg:.2f}x PyTorch's time")
print(f"{flops / 1e9:.1f} GFLOP a grid: burn {flops / bg / 1e6:.1f} GFLOP/s, PyTorch {flops / tg / 1e6:.1f} GFLOP/s, "
      f"against burn-flex's matrix product at {peak:.1f} GFLOP/s ({100 * flops / bg / 1e6 / peak:.0f} % and "
      f"{100 * flops / tg / 1e6 / peak:.0f} % of it)")
PY
