#!/usr/bin/env python3
"""PyTorch reference of clicknet's training step (package clicknet): the same
network (space-to-depth stem, UNet of 3x3 conv + ReLU blocks with 2x2 average
pooling and nearest upsampling, pixel-shuffle head), the same loss (Dice +
binary cross-entropy) and AdamW, on a fixed random batch. Used by
`synthfm bench train --pytorch` as the reference of its step time; prints JSON.
Independent of the Go code: written from the architecture's description.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = 6  # image, positive, negative, previous, box, valid


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)

    def forward(self, x):
        return F.relu(self.conv2(F.relu(self.conv1(x))))


class ClickNet(nn.Module):
    def __init__(self, widths, patch):
        super().__init__()
        self.patch = patch
        self.stem = nn.Linear(patch * patch * CHANNELS, widths[0])
        self.enc = nn.ModuleList()
        cin = widths[0]
        for w in widths:
            self.enc.append(Block(cin, w))
            cin = w
        self.dec = nn.ModuleList([Block(widths[l + 1] + widths[l], widths[l]) for l in range(len(widths) - 2, -1, -1)])
        self.head = nn.Linear(widths[0], patch * patch)

    def forward(self, x):  # x [B, C, S, S]
        p = self.patch
        h = F.relu(self.stem(F.pixel_unshuffle(x, p).permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        skips = []
        for i, blk in enumerate(self.enc):
            if i > 0:
                h = F.avg_pool2d(h, 2)
            h = blk(h)
            skips.append(h)
        for j, blk in enumerate(self.dec):
            skip = skips[len(skips) - 2 - j]
            h = blk(torch.cat([F.interpolate(h, scale_factor=2, mode="nearest"), skip], 1))
        out = self.head(h.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return F.pixel_shuffle(out, p)[:, 0]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--widths", default="64,96,128")
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--input", type=int, default=128)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = ClickNet([int(w) for w in a.widths.split(",")], a.patch)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=1e-4)
    x = torch.randn(a.batch, CHANNELS, a.input, a.input)
    t = (torch.rand(a.batch, a.input, a.input) < 0.25).float()

    def step():
        opt.zero_grad()
        logits = net(x)
        p = torch.sigmoid(logits)
        dice = 1 - (2 * (p * t).sum((1, 2)) + 1) / (p.sum((1, 2)) + t.sum((1, 2)) + 1)
        loss = (dice + F.binary_cross_entropy_with_logits(logits, t, reduction="none").mean((1, 2))).mean()
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        step()
    wall, cpu = (time.perf_counter() - w0) / a.steps, (time.process_time() - c0) / a.steps
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "batch": a.batch, "steps": a.steps,
                      "params": sum(q.numel() for q in net.parameters()),
                      "step_ms_wall": 1000 * wall, "step_ms_cpu": 1000 * cpu, "samples_per_s": a.batch / wall}))


if __name__ == "__main__":
    main()
