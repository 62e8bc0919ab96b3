"""Exports the shipped digit U-Net (`assets/mnist`) from its PyTorch twin to ONNX, for the
side-by-side benchmark against ONNX Runtime Web (`node tests/browser/ort.mjs`). Inputs: `x`
[batch, 1, 28, 28] float32, `t` [batch] int64, `labels` [batch] int64 (10: no label); output:
the predicted noise, [batch, 1, 28, 28]. The batch is dynamic.

    python3 scripts/export_onnx.py target/unet.onnx     # needs torch and onnx (pip)
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from train_mnist import NO_LABEL, SIDE, load_unet  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "target/unet.onnx"
    model, _ = load_unet(os.path.join(os.path.dirname(__file__), "..", "assets", "mnist"))
    x = torch.randn(16, 1, SIDE, SIDE)
    t = torch.full((16,), 500, dtype=torch.int64)
    y = torch.full((16,), NO_LABEL, dtype=torch.int64)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    torch.onnx.export(model, (x, t, y), out, input_names=["x", "t", "labels"], output_names=["eps"],
                      dynamic_axes={"x": {0: "batch"}, "t": {0: "batch"}, "labels": {0: "batch"}, "eps": {0: "batch"}},
                      opset_version=17, dynamo=False)
    print(f"wrote {out} ({os.path.getsize(out) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
