#!/usr/bin/env python3
"""PyTorch side of `bloom4j bench-train`: SongBloom AR training-step time, LoRA vs DoRA vs full fine-tuning, CPU float32.

    LD_PRELOAD=~/.javacpp/cache/openblas-0.3.19-1.5.7-linux-x86_64.jar/org/bytedeco/openblas/linux-x86_64/libopenblas_nolapack.so.0 \
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 train/src/bench/python/bench_train.py --threads 2
    ./bloom4j bench-train --threads 2

Plain torch (no peft/transformers): the teacher-forced AR of SongBloom's training forward, [prefix | BOS, e(s), A_0, e(s), ...],
HF-Llama layers (RMSNorm, rotate_half RoPE, eager causal attention, SwiGLU), skeleton_classifier at the non-h positions, token
cross-entropy with ignore index P+1. LoRA / DoRA written here on q_proj and v_proj (PEFT's formulas, dropout 0; DoRA's weight norm
detached). One timed step = forward, backward, clip_grad_norm_(1.0), AdamW. Debian's python3-torch links the reference BLAS
(~5 GFLOP/s); preload the OpenBLAS ND4J ships (above) for a like-for-like comparison. The sgemm rate is printed.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn


class Adapted(nn.Module):
    def __init__(self, base, r, alpha, dora):
        super().__init__()
        self.base, self.s, self.dora = base, alpha / r, dora
        self.A = nn.Parameter(torch.empty(r, base.in_features))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))
        if dora:
            self.m = nn.Parameter(base.weight.detach().norm(dim=1).clone())

    def forward(self, x):
        y = self.base(x)
        lora = (x @ self.A.t()) @ self.B.t()
        if not self.dora:
            return y + self.s * lora
        norm = (self.base.weight + self.s * self.B @ self.A).norm(dim=1).detach()
        k = self.m / norm
        return k * (y + self.s * lora)   # PEFT's (k-1)·Wx + k·s·BAx, plus the base output Wx


class Layer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.h = heads
        self.n1, self.n2 = nn.Parameter(torch.ones(d)), nn.Parameter(torch.ones(d))
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(d, d, bias=False) for _ in range(4))
        self.gate, self.up = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * w

    def forward(self, x, cos, sin, mask):
        b, n, d = x.shape
        y = self.rms(x, self.n1)
        q, k, v = (p(y).view(b, n, self.h, -1).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))

        def rope(t):
            t1, t2 = t.chunk(2, dim=-1)
            return t * cos + torch.cat((-t2, t1), dim=-1) * sin

        q, k = rope(q), rope(k)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + mask, dim=-1)
        x = x + self.o_proj((a @ v).transpose(1, 2).reshape(b, n, d))
        y = self.rms(x, self.n2)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Ar(nn.Module):
    def __init__(self, o):
        super().__init__()
        d, self.o = o.dim, o
        self.layers = nn.ModuleList(Layer(d, o.heads, 4 * d) for _ in range(o.layers))
        self.norm = nn.Parameter(torch.ones(d))
        self.skeleton_emb = nn.Embedding(o.pitch + 2, d)
        self.bos = nn.Parameter(torch.randn(d) * 0.02)
        self.cls = nn.Sequential(nn.Linear(d, d, bias=False), nn.SiLU(), nn.Linear(d, o.pitch + 1))
        self.block_conv = nn.Sequential(nn.Linear(o.block_size * o.latent, d), nn.SiLU(), nn.Linear(d, d))
        hd = d // o.heads
        inv = 1.0 / (20000 ** (torch.arange(0, hd, 2).float() / hd))
        length = o.prefix + o.sketch + o.sketch // o.block_size + 1
        f = torch.arange(length).float()[:, None] * inv[None]
        f = torch.cat((f, f), dim=-1)
        self.cos, self.sin = f.cos(), f.sin()
        self.mask = torch.full((length, length), float("-inf")).triu(1)

    def forward(self, prefix, sketch, latents):
        o, b = self.o, sketch.shape[0]
        s, n, d = o.block_size, o.sketch // o.block_size, o.dim
        e = self.skeleton_emb(sketch).view(b, n, s, d)
        a = self.block_conv(latents.reshape(b, n, s * o.latent))
        heads = torch.cat([self.bos.expand(b, 1, d), a[:, :-1]], dim=1)
        seq = torch.cat([prefix, torch.cat([heads[:, :, None], e], dim=2).reshape(b, n * (s + 1), d), a[:, -1:]], dim=1)
        for layer in self.layers:
            seq = layer(seq, self.cos, self.sin, self.mask)
        h = Layer.rms(seq, self.norm)
        body = h[:, o.prefix:o.prefix + n * (s + 1)].reshape(b, n, s + 1, d)[:, :, :s].reshape(b, o.sketch, d)
        return self.cls(torch.cat([body, h[:, -1:]], dim=1))


def main():
    ap = argparse.ArgumentParser()
    for k, v in dict(dim=512, heads=8, layers=4, pitch=1024, block_size=16, latent=64, batch=2, prefix=17, sketch=224, rank=16,
                     steps=5, warmup=2, threads=2).items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--modes", default="lora,dora,full")
    o = ap.parse_args()
    torch.set_num_threads(o.threads)
    torch.manual_seed(0)
    a, bm = torch.randn(1024, 1024), torch.randn(1024, 1024)
    a @ bm
    best = min((lambda t0: (a @ bm, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
    gemm = 2 * 1024 ** 3 / best / 1e9
    print(f"bench-train (torch {torch.__version__}, {o.threads} threads): sgemm 1024^3 {gemm:.1f} GFLOP/s")
    prefix = torch.randn(o.batch, o.prefix, o.dim) * 0.5
    sketch = torch.randint(0, o.pitch, (o.batch, o.sketch))
    latents = torch.randn(o.batch, o.sketch, o.latent)
    target = F.pad(sketch, (0, 1), value=o.pitch).reshape(-1)
    res = {}
    for mode in o.modes.split(","):
        torch.manual_seed(1)
        m = Ar(o)
        if mode != "full":
            for p in m.parameters():
                p.requires_grad_(False)
            for layer in m.layers:
                layer.q_proj = Adapted(layer.q_proj, o.rank, 2 * o.rank, mode == "dora")
                layer.v_proj = Adapted(layer.v_proj, o.rank, 2 * o.rank, mode == "dora")
        params = [p for p in m.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
        times = []
        for i in range(o.warmup + o.steps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            logits = m(prefix, sketch, latents)
            loss = F.cross_entropy(logits.reshape(-1, o.pitch + 1), target, ignore_index=o.pitch + 1)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if i >= o.warmup:
                times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        res[mode] = times[len(times) // 2]
        print(f"{mode:5s} trainable {sum(p.numel() for p in params):12,d}  step {res[mode]:8.1f} ms (median of {o.steps}, best {times[0]:.1f})")
    print("bench train torch:" + "".join(f" {k}_ms={v:.1f}" for k, v in res.items()) + f" sgemm_gflops={gemm:.1f}")


if __name__ == "__main__":
    main()
