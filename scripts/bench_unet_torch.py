"""PyTorch's side of the native comparison with burn (`examples/unet_grid.rs` is the other):
the shipped U-Net's weights (`assets/mnist`) in PyTorch eager on one CPU thread, timed for one
network evaluation at batch 16 and for a grid of 16 digits in DDIM-25 without guidance (25
evaluations), and the floating-point operations of both, counted by PyTorch's FlopCounterMode
(2 per multiply-add of the convolutions and matrix products; norms and activations not counted).

    python3 scripts/bench_unet_torch.py     # bash scripts/bench-native.sh runs both sides
"""

import os
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(__file__))
from train_mnist import NO_LABEL, SIDE, linear_alpha_bar, load_unet  # noqa: E402

BATCH = 16
STEPS = 25


def median(runs, f):
    f()
    f()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        f()
        times.append(time.perf_counter() - started)
    return sorted(times)[runs // 2]


def main():
    torch.set_num_threads(1)
    model, record = load_unet(os.path.join(os.path.dirname(__file__), "..", "assets", "mnist"))
    x = torch.randn(BATCH, 1, SIDE, SIDE, generator=torch.Generator().manual_seed(0))
    t = torch.full((BATCH,), 500)
    y = torch.full((BATCH,), NO_LABEL)

    with torch.inference_mode():
        with FlopCounterMode(display=False) as counter:
            model(x, t, y)
        flops = counter.get_total_flops()
        evaluation = median(21, lambda: model(x, t, y))

        alpha_bar = linear_alpha_bar(record["diffusion_steps"]).float()
        times = torch.linspace(record["diffusion_steps"], 1, STEPS).round().long()

        def grid():
            z = torch.randn(BATCH, 1, SIDE, SIDE, generator=torch.Generator().manual_seed(1))
            for i, step in enumerate(times):
                ab = alpha_bar[step - 1]
                ab_prev = alpha_bar[times[i + 1] - 1] if i + 1 < len(times) else torch.tensor(1.0)
                eps = model(z, torch.full((BATCH,), int(step)), y)
                x0 = ((z - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
                z = ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * eps
            return z

        whole = median(5, grid)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"torch one evaluation, batch 16: {1e3 * evaluation:.2f} ms")
    print(f"torch grid of 16, DDIM-25, no guidance: {1e3 * whole:.1f} ms")
    print(f"flops one evaluation, batch 16: {flops}")
    print(f"flops grid of 16, DDIM-25: {flops * STEPS}")


if __name__ == "__main__":
    main()
