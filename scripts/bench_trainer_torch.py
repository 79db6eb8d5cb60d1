#!/usr/bin/env python3
"""PyTorch side of scripts/bench-trainer.sh: the trainer's recipe, timed.

The model and recipe match `trainer train --arch ARCH`: encoder 784-400 (ReLU)
with mu / logvar heads, decoder LATENT-HIDDEN...-784 (ReLU between, logits
out), loss = BCE with logits summed over pixels + analytic KL, averaged over
the batch, Adam (PyTorch defaults besides lr), shuffled mini-batches, eps ~
N(0, I) per batch. Data: the IDX files in --data (raw or .gz). Prints one
line per epoch, `epoch N: S s, train -ELBO L`, and a last line
`torch s/epoch MEDIAN` (median of the timed epochs).

Not run in CI: it needs `pip install torch numpy`.
"""

import argparse
import gzip
import os
import statistics
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

ARCHS = {
    # name: (latent, decoder hidden widths)
    "classic": (20, [400]),
    "mcu": (24, [128, 64]),
}


def read_idx(path):
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rb") as f:
                data = f.read()
            dims = data[3]
            shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    raise SystemExit(f"missing IDX file {path} (run `cargo run --release -p trainer -- fetch-data`)")


class Vae(nn.Module):
    def __init__(self, latent, hidden):
        super().__init__()
        self.enc = nn.Linear(784, 400)
        self.mu = nn.Linear(400, latent)
        self.logvar = nn.Linear(400, latent)
        dims = [latent] + hidden + [784]
        self.dec = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, dims[1:]))

    def forward(self, x, eps):
        h = F.relu(self.enc(x))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        for i, layer in enumerate(self.dec):
            z = layer(z)
            if i + 1 < len(self.dec):
                z = F.relu(z)
        bce = F.binary_cross_entropy_with_logits(z, x, reduction="sum") / x.shape[0]
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / x.shape[0]
        return bce + kl


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--arch", default="classic", choices=sorted(ARCHS))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x_all = torch.from_numpy(
        read_idx(os.path.join(a.data, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    )
    latent, hidden = ARCHS[a.arch]
    model = Vae(latent, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    times = []
    for epoch in range(a.epochs):
        start = time.perf_counter()
        order = torch.randperm(x_all.shape[0])
        total, seen = 0.0, 0
        for i in range(0, x_all.shape[0], a.batch):
            x = x_all[order[i : i + a.batch]]
            eps = torch.randn(x.shape[0], latent)
            loss = model(x, eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * x.shape[0]
            seen += x.shape[0]
        seconds = time.perf_counter() - start
        times.append(seconds)
        print(f"epoch {epoch + 1}: {seconds:.2f} s, train -ELBO {total / seen:.3f}", flush=True)
    print(f"torch s/epoch {statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
