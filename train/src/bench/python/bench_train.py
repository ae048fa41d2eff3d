#!/usr/bin/env python3
"""PyTorch side of `bloom4j bench-train`: SongBloom AR training-step time, LoRA vs DoRA vs full fine-tuning, CPU float32.

    LD_PRELOAD=~/.javacpp/cache/openblas-0.3.19-1.5.7-linux-x86_64.jar/org/bytedeco/openblas/linux-x86_64/libopenblas_nolapack.so.0 \
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 train/src/bench/python/bench_train.py --threads 2
    ./bloom4j bench-train --threads 2
    ... --objective --dim 1536 --heads 24 --layers 36 --pitch 16384 --crop 30     (and bloom4j bench-train with the same options)

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
import torch.utils.checkpoint
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


class DitLayer(nn.Module):
    """SongBloom's DiT layer (stable-audio-tools ContinuousTransformer block, prepend time conditioning): LayerNorm, fused qkv,
    bidirectional attention with RoPE on the first max(dh/2, 32) dims, SwiGLU."""

    def __init__(self, d, heads, ff):
        super().__init__()
        self.h = heads
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, d, bias=False)
        self.gate, self.up, self.down = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False), nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin, rot):
        b, n, d = x.shape
        q, k, v = (t.view(b, n, self.h, -1).transpose(1, 2) for t in self.qkv(self.n1(x)).chunk(3, dim=-1))

        def rope(t):
            r, rest = t[..., :rot], t[..., rot:]
            t1, t2 = r.chunk(2, dim=-1)
            return torch.cat((r * cos + torch.cat((-t2, t1), dim=-1) * sin, rest), dim=-1)

        q, k = rope(q), rope(k)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        x = x + self.out((a @ v).transpose(1, 2).reshape(b, n, d))
        y = self.n2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


def objective(o):
    """The whole fine-tuning objective of `bloom4j bench-train --objective`: one song of --crop seconds with [prompt | lyrics]
    conditions, AR CE + 0.1 x flow MSE through a frozen DiT over every block, LoRA on q/v plus trainable lyric and sketch tables."""
    import resource
    torch.manual_seed(1)
    s = o.block_size
    o.sketch = int(o.crop * 25) // s * s
    o.prefix = o.prompt_len + o.lyrics_len
    o.batch = 1
    m = Ar(o)
    for p in m.parameters():
        p.requires_grad_(False)
    for layer in m.layers:
        layer.q_proj = Adapted(layer.q_proj, o.rank, 2 * o.rank, False)
        layer.v_proj = Adapted(layer.v_proj, o.rank, 2 * o.rank, False)
    m.skeleton_emb.weight.requires_grad_(True)
    for p in m.cls.parameters():
        p.requires_grad_(True)
    d = o.dim
    lyric_table = nn.Embedding(330, d)
    dit = nn.ModuleList(DitLayer(d, o.heads, 4 * d) for _ in range(o.diff_layers))
    proj_in, proj_out, temb = nn.Linear(o.latent, d), nn.Linear(d, o.latent), nn.Linear(256, d)
    for mod in (dit, proj_in, proj_out, temb):
        for p in mod.parameters():
            p.requires_grad_(False)
    hd = d // o.heads
    rot = max(hd // 2, 32)
    inv = 1.0 / (20000 ** (torch.arange(0, rot, 2).float() / rot))
    f = torch.arange(2 + 3 * s).float()[:, None] * inv[None]
    f = torch.cat((f, f), dim=-1)
    dcos, dsin = f.cos(), f.sin()
    prompt = torch.randn(1, o.prompt_len, d) * 0.1
    lyr = torch.randint(0, 330, (1, o.lyrics_len))
    sketch = torch.randint(0, o.pitch, (1, o.sketch))
    latents = torch.randn(1, o.sketch, o.latent)
    target = F.pad(sketch, (0, 1), value=o.pitch).reshape(-1)
    n = o.sketch // s
    params = [p for p in m.parameters() if p.requires_grad] + [lyric_table.weight]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    hidden = {}

    def hook(mod, inp, out):
        hidden["h"] = out

    times = []
    for i in range(o.warmup + o.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        prefix = torch.cat([prompt, lyric_table(lyr)], dim=1)
        # AR (as Ar.forward) keeping the h positions
        e = m.skeleton_emb(sketch).view(1, n, s, d)
        a = m.block_conv(latents.reshape(1, n, s * o.latent))
        heads = torch.cat([m.bos.expand(1, 1, d), a[:, :-1]], dim=1)
        seq = torch.cat([prefix, torch.cat([heads[:, :, None], e], dim=2).reshape(1, n * (s + 1), d), a[:, -1:]], dim=1)
        for layer in m.layers:   # per-layer recomputation, as bloom4j and upstream's gradient_checkpointing_enable (non-reentrant)
            seq = torch.utils.checkpoint.checkpoint(layer, seq, m.cos, m.sin, m.mask, use_reentrant=False)
        hh = Layer.rms(seq, m.norm)
        body = hh[:, o.prefix:o.prefix + n * (s + 1)].reshape(1, n, s + 1, d)
        logits = m.cls(torch.cat([body[:, :, :s].reshape(1, o.sketch, d), hh[:, -1:]], dim=1))
        h = body[:, :, s].reshape(n, d)
        x0 = latents.view(n, s, o.latent)
        hist = torch.cat([torch.zeros(1, s, o.latent), x0[:-1]], dim=0)
        t = torch.sigmoid(torch.randn(n))
        eps = torch.randn_like(x0)
        xt = x0 * (1 - t)[:, None, None] + eps * t[:, None, None]
        ff = 2 * math.pi * t[:, None] * torch.randn(1, 128)
        tok = torch.cat([temb(torch.cat([ff.cos(), ff.sin()], dim=-1))[:, None], h[:, None], e.view(n, s, d),
                         proj_in(torch.cat([hist, xt], dim=1))], dim=1)
        for layer in dit:
            tok = layer(tok, dcos, dsin, rot)
        pred = proj_out(tok[:, -s:])
        loss = F.cross_entropy(logits.reshape(-1, o.pitch + 1), target, ignore_index=o.pitch + 1) + 0.1 * F.mse_loss(pred, eps - x0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if i >= o.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1048576
    print(f"objective: {o.layers} x {o.dim} AR + {o.diff_layers} DiT layers, {o.crop:.0f} s = {o.sketch} frames, "
          f"{o.prefix + o.sketch + n + 1} positions: step {times[len(times) // 2]:.2f} s (median of {o.steps}, best {times[0]:.2f});"
          f" peak RSS {rss:.2f} GB")
    print(f"bench train torch objective: step_s={times[len(times) // 2]:.3f} peak_rss_gb={rss:.2f}")


def main():
    ap = argparse.ArgumentParser()
    for k, v in dict(dim=512, heads=8, layers=4, pitch=1024, block_size=16, latent=64, batch=2, prefix=17, sketch=224, rank=16,
                     steps=5, warmup=2, threads=2).items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--modes", default="lora,dora,full")
    for k, v in dict(diff_layers=12, prompt_len=250, lyrics_len=600).items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--crop", type=float, default=30.0)
    ap.add_argument("--objective", action="store_true", help="the whole fine-tuning objective (AR + DiT flow term), with peak RSS")
    o = ap.parse_args()
    torch.set_num_threads(o.threads)
    if o.objective:
        objective(o)
        return
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
