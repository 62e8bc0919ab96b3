"""An independent judge of sampled digits: a small CNN trained on real digits (never on anything
the diffusion model produced) classifies the PNGs `diffusion mnist sample` wrote, and compares
them with held-out real digits in its features.

    diffusion mnist sample --n 1000 --out /tmp/digits
    python3 scripts/judge_mnist.py /tmp/digits               # classes took turns 0, 1, ..., 9
    python3 scripts/judge_mnist.py /tmp/sevens --label 7
    python3 scripts/judge_mnist.py /tmp/a /tmp/b /tmp/c      # several runs, one classifier
    python3 scripts/judge_mnist.py --export scripts/judge_mnist.safetensors   # for `mnist sweep`

The split is fixed, so that this script and `diffusion mnist sweep` (which loads the exported
classifier) judge against the same digits: the 10,000 digits of data/mnist.bin, ordered by a
hash of their index, give 1,000 reference digits, then 1,000 floor digits; the classifier learns
from the other 8,000, and so does the diffusion model (scripts/train_mnist.py), so that neither has
seen the digits samples are judged against. (Weights trained before 2026-11-24 saw all 10,000;
unet.json's `held_out` says which.)

For each directory it prints:
  right      how often the classifier names the digit that was asked for
  sure       how often it is at least 90 % sure of its answer
  FD         the Frechet distance between the samples' and the reference digits' features
             (means and covariances of 128 numbers; FID's formula in this classifier's space)
  precision  the share of samples inside the reference digits' manifold, and
  recall     the share of reference digits inside the samples' manifold (Kynkaanniemi et al.
             2019: each point's ball reaches its 3rd nearest neighbour of its own set)
  speckled   the share of samples with an isolated bright pixel (one above mid-grey whose eight
             neighbours are all dark), which real digits almost never have
The floor set, judged the same way, shows what real digits score: the best a model can do.
Compare distances only between runs of the same size (the Frechet distance shrinks with more
samples); 1,000 is the size used throughout.
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
from train_mnist import read_digits, save_safetensors, split  # noqa: E402

NEIGHBOURS = 3


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


class Judge(nn.Module):
    """Two convolutions and two linear layers; `src/model/judge.rs` is the same network."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.fc2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.25)

    def features(self, x):
        """The 128 numbers the last layer reads: a learned description of the digit."""
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return F.relu(self.fc1(self.dropout(h.flatten(1))))

    def forward(self, x):
        return self.fc2(self.features(x))


def train_judge(images, labels, train, epochs):
    torch.manual_seed(0)
    net = Judge()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(epochs):
        net.train()
        for batch in train[torch.randperm(len(train))].split(128):
            # Small shifts, so that a digit drawn a pixel off centre is still recognised.
            x = torch.roll(images[batch], shifts=tuple(torch.randint(-2, 3, (2,)).tolist()), dims=(2, 3))
            loss = F.cross_entropy(net(x), labels[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    # The judge is float16 when exported; judge with exactly those weights here too.
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    return net.eval()


def frechet_distance(a, b):
    """|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)), in float64."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = torch.cov(a.T), torch.cov(b.T)
    # tr((S_a S_b)^(1/2)) = sum of the square roots of the eigenvalues of S_a^(1/2) S_b S_a^(1/2).
    vals, vecs = torch.linalg.eigh(s_a)
    root = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root @ s_b @ root).clamp(min=0).sqrt().sum()
    return ((mu_a - mu_b).square().sum() + s_a.trace() + s_b.trace() - 2 * cross).item()


def precision_recall(real, fake, k=NEIGHBOURS):
    real, fake = real.double(), fake.double()

    def radii(x):  # distance to the k-th nearest other point of the same set
        return torch.cdist(x, x).kthvalue(k + 1, dim=1).values

    cross = torch.cdist(fake, real)  # [fake, real]
    precision = (cross <= radii(real)[None, :]).any(1).double().mean().item()
    recall = (cross.T <= radii(fake)[None, :]).any(1).double().mean().item()
    return precision, recall


def speckled(x):
    """Which images have a pixel above mid-grey whose eight neighbours are all below a quarter."""
    pad = F.pad(x, (1, 1, 1, 1), value=-1.0)
    h, w = x.shape[-2:]
    around = torch.stack([pad[..., 1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx]
                          for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]).amax(0)
    return ((x > 0.0) & (around < -0.5)).flatten(1).any(1)


def scores(net, x, asked, reference):
    with torch.no_grad():
        probs = net(x).softmax(1)
        feats = net.features(x)
    top, predicted = probs.max(1)
    precision, recall = precision_recall(reference, feats)
    return {
        "right": (predicted == asked).double().mean().item(),
        "sure": (top > 0.9).double().mean().item(),
        "fd": frechet_distance(feats, reference),
        "precision": precision,
        "recall": recall,
        "speckled": speckled(x).double().mean().item(),
        "predicted": predicted,
    }


def show(name, n, s):
    print(f"{name}: {n} digits; right {100 * s['right']:.1f} %, sure {100 * s['sure']:.1f} %, "
          f"FD {s['fd']:.2f}, precision {100 * s['precision']:.1f} %, recall {100 * s['recall']:.1f} %, "
          f"speckled {100 * s['speckled']:.1f} %")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("samples", nargs="*", help="directories of PNGs written by diffusion mnist sample")
    p.add_argument("--label", type=int, help="the label every sample was asked for")
    p.add_argument("--data", default="data/mnist.bin")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--export", help="also write the classifier (float16 safetensors) for diffusion mnist sweep")
    args = p.parse_args()

    images, labels = read_digits(args.data)
    reference, floor, train = split(len(labels))
    net = train_judge(images, labels, train, args.epochs)
    with torch.no_grad():
        reference_feats = net.features(images[reference])
        accuracy = (net(images[reference]).argmax(1) == labels[reference]).double().mean().item()
    print(f"classifier: {100 * accuracy:.1f} % right on the 1,000 reference digits it never saw")
    show("floor (1,000 held-out real digits)", len(floor), scores(net, images[floor], labels[floor], reference_feats))
    if args.export:
        save_safetensors(args.export, {k: v.half() for k, v in net.state_dict().items()})
        print(f"wrote {args.export}")
    for directory in args.samples:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".png"))
        x = torch.stack([read_png(os.path.join(directory, n)) for n in names])
        asked = torch.tensor([args.label if args.label is not None else int(n[:5]) % 10 for n in names])
        s = scores(net, x, asked, reference_feats)
        show(directory, len(names), s)
        per_class = [(s["predicted"][asked == d] == d).double().mean().item() for d in range(10) if (asked == d).any()]
        if len(per_class) == 10:
            print("  right, by class asked for: " + ", ".join(f"{d}: {100 * a:.0f} %" for d, a in enumerate(per_class)))


if __name__ == "__main__":
    main()
