"""An independent judge of sampled digits: a small CNN trained on the real digits (not on
anything the diffusion model produced) classifies the PNGs `diffusion mnist sample` wrote.

    diffusion mnist sample --n 500 --out /tmp/digits
    python3 scripts/judge_mnist.py /tmp/digits               # classes took turns 0, 1, ..., 9
    python3 scripts/judge_mnist.py /tmp/sevens --label 7
    python3 scripts/judge_mnist.py /tmp/a /tmp/b /tmp/c           # several runs, one classifier

Prints the classifier's accuracy on 2,000 held-out real digits, then for the samples: how often
it agrees with the label asked for, how confident it is (a blob or a scribble gets a low top
probability), and how the samples spread over the classes.
"""

import argparse
import os
import struct
import sys
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from train_mnist import read_digits  # noqa: E402


def read_png(path):
    """A 28x28 8-bit grayscale PNG (what `diffusion mnist sample` writes), without extra libraries."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color == 0, f"{path}: not 8-bit grayscale"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(width)
    for y in range(height):
        kind, line = raw[y * (width + 1)], bytearray(raw[y * (width + 1) + 1 : (y + 1) * (width + 1)])
        for x in range(width):
            a = line[x - 1] if x else 0
            b, c = prev[x], (prev[x - 1] if x else 0)
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return torch.tensor(list(b"".join(rows)), dtype=torch.float32).view(1, height, width) / 127.5 - 1.0


def classifier():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("samples", nargs="+", help="directories of PNGs written by diffusion mnist sample")
    p.add_argument("--label", type=int, help="the label every sample was asked for")
    p.add_argument("--data", default="data/mnist.bin")
    p.add_argument("--epochs", type=int, default=6)
    args = p.parse_args()

    torch.manual_seed(0)
    images, labels = read_digits(args.data)
    order = torch.randperm(len(labels))
    held, train = order[:2000], order[2000:]
    net = classifier()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(args.epochs):
        net.train()
        for batch in train[torch.randperm(len(train))].split(128):
            # Small shifts, so that a digit drawn a pixel off centre is still recognised.
            x = torch.roll(images[batch], shifts=tuple(torch.randint(-2, 3, (2,)).tolist()), dims=(2, 3))
            loss = F.cross_entropy(net(x), labels[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(images[held]).argmax(1) == labels[held]).float().mean().item()
    print(f"classifier: {100 * accuracy:.1f} % right on 2,000 held-out real digits")

    features = net[:-1]  # the 128 numbers the last layer reads: a learned description of the digit
    with torch.no_grad():
        real_spread = spread(features(images[held]), labels[held])
    print(f"real digits: spread within a class {real_spread:.2f} (mean distance between two digits of one class, in the classifier's features)")
    for directory in args.samples:
        judge(net, features, directory, args.label, real_spread)


def spread(feats, classes):
    """The mean distance between two digits of the same class, averaged over the classes."""
    per_class = [torch.pdist(feats[classes == d]).mean() for d in range(10) if (classes == d).sum() > 1]
    return torch.stack(per_class).mean().item()


def judge(net, features, directory, label, real_spread):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".png"))
    x = torch.stack([read_png(os.path.join(directory, n)) for n in names])
    asked = torch.tensor([label if label is not None else int(n[:5]) % 10 for n in names])
    with torch.no_grad():
        probs = net(x).softmax(1)
        sample_spread = spread(features(x), asked)
    top, predicted = probs.max(1)
    agree = (predicted == asked).float().mean().item()
    confident = (top > 0.9).float().mean().item()
    counts = torch.bincount(predicted, minlength=10).tolist()
    print(f"{directory}: {len(names)} samples; recognised as the label asked for: {100 * agree:.1f} %; "
          f"classifier at least 90 % sure: {100 * confident:.1f} %; mean top probability {top.mean().item():.3f}; "
          f"spread {sample_spread:.2f} ({100 * sample_spread / real_spread:.0f} % of real digits')")
    print("  recognised as 0-9: " + ", ".join(str(c) for c in counts))
    per_class = [(predicted[asked == d] == d).float().mean().item() for d in range(10) if (asked == d).any()]
    if len(per_class) == 10:
        print("  right, by class asked for: " + ", ".join(f"{d}: {100 * a:.0f} %" for d, a in enumerate(per_class)))


if __name__ == "__main__":
    main()
