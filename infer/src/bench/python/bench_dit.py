#!/usr/bin/env python3
"""PyTorch side of `bloom4j bench dit`: SongBloom's local DiT sampler step at the released shapes, random weights, CPU float32.

    python3 infer/src/bench/python/bench_dit.py --threads 2
    ./bloom4j bench dit --threads 2

A compact re-statement of the upstream computation (SongBloom ef78022, songbloom_mvsa.py diffusion_forward over transformer.py's
ContinuousTransformer, no adaLN): 50 tokens [t | h | 16 s | 16 history | 16 x], D 1536, 24 heads of 64, RoPE on 32 dims,
LayerNorm eps 1e-5, SwiGLU 6144, CFG batch 2, eager attention as upstream's CPU path (einsum + softmax; torch 1.13 has no SDPA).
One timed step = one diffusion_forward with CFG plus the Euler update.

Debian's python3-torch links the reference BLAS (about 5 GFLOP/s); compare against OpenBLAS, as ND4J uses, without touching the
system's BLAS:

    apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/obl
    LD_LIBRARY_PATH=/tmp/obl/usr/lib/x86_64-linux-gnu/openblas-pthread python3 ...
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads = heads
        self.pre_norm = nn.LayerNorm(d, elementwise_affine=True)
        self.to_qkv = nn.Linear(d, 3 * d, bias=False)
        self.to_out = nn.Linear(d, d, bias=False)
        self.ff_norm = nn.LayerNorm(d)
        self.up = nn.Linear(d, ff, bias=False)
        self.gate = nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin, rot):
        b, n, d = x.shape
        q, k, v = self.to_qkv(self.pre_norm(x)).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, self.heads, -1).transpose(1, 2) for t in (q, k, v))

        def rope(t):
            r, rest = t[..., :rot], t[..., rot:]
            r1, r2 = r.chunk(2, dim=-1)
            return torch.cat((r * cos + torch.cat((-r2, r1), dim=-1) * sin, rest), dim=-1)

        q, k = rope(q), rope(k)
        a = torch.softmax(torch.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(q.shape[-1]), dim=-1)
        o = torch.einsum("bhij,bhjd->bhid", a, v).transpose(1, 2).reshape(b, n, d)
        x = x + self.to_out(o)
        y = self.ff_norm(x)
        return x + self.down(self.up(y) * F.silu(self.gate(y)))


class Dit(nn.Module):
    def __init__(self, d=1536, heads=24, depth=12, latent=64, block=16, ff=6144, feats=256):
        super().__init__()
        self.block, self.d = block, d
        self.project_in = nn.Linear(latent, d)
        self.project_out = nn.Linear(d, latent)
        self.fourier = nn.Parameter(torch.randn(feats // 2, 1))
        self.t1 = nn.Linear(feats, d, bias=False)
        self.t2 = nn.Linear(d, d)
        self.layers = nn.ModuleList(Block(d, heads, ff) for _ in range(depth))
        self.rot = max(d // heads // 2, 32)
        inv = 1.0 / (20000 ** (torch.arange(0, self.rot, 2).float() / self.rot))
        f = torch.arange(2 + 3 * block).float()[:, None] * inv[None]
        f = torch.cat((f, f), dim=-1)
        self.cos, self.sin = f.cos(), f.sin()

    def forward(self, x, t, h, s, hist, cfg):
        x, t, hist = torch.cat([x, x]), torch.cat([t, t]), torch.cat([hist, hist])
        h, s = torch.cat([h, torch.zeros_like(h)]), torch.cat([s, torch.zeros_like(s)])
        u = self.project_in(torch.cat([hist, x], dim=1))
        f = 2 * math.pi * t[:, None] @ self.fourier.T
        temb = self.t2(F.silu(self.t1(torch.cat([f.cos(), f.sin()], dim=-1))))
        seq = torch.cat([temb[:, None], h[:, None], s, u], dim=1)
        for layer in self.layers:
            seq = layer(seq, self.cos, self.sin, self.rot)
        out = self.project_out(seq[:, -self.block:])
        c, un = out.chunk(2)
        return un + (c - un) * cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    with torch.no_grad():
        t0 = time.perf_counter()
        m = Dit().eval()
        for p in m.parameters():
            p.normal_(0, 0.02)
        build = time.perf_counter() - t0
        h, s, hist = torch.randn(1, 1536), torch.randn(1, 16, 1536), torch.randn(1, 16, 64)
        x = torch.zeros(1, 16, 64)

        def step(k, n):
            nonlocal x
            t = torch.full((1,), 1 - k / n)
            v = m(x, t, h, s, hist, 1.5)
            x = x - v / n

        for k in range(a.warmup):
            step(k, a.warmup)
        t0 = time.perf_counter()
        for k in range(a.steps):
            step(k, a.steps)
        per = (time.perf_counter() - t0) / a.steps
    print(f"bench dit (pytorch {torch.__version__}, threads={a.threads}): build {build:.1f} s, {1000 * per:.1f} ms/step, "
          f"{1 / per:.3f} steps/s, DiT compute {36 * per / 0.64:.1f} s per audio second")


if __name__ == "__main__":
    main()
