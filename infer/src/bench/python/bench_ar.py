#!/usr/bin/env python3
"""PyTorch side of `bloom4j bench ar`: SongBloom's AR backbone (an HF-style LLaMA fed with inputs_embeds) at the same shapes, fp32, CPU.

    /usr/bin/python3 infer/src/bench/python/bench_ar.py --layers 36 --threads 2
    ./bloom4j bench ar --layers 36 --threads 2

Same computation and conventions as the Java bench: random weights (N(0, 0.02), norm gains 1), batch 2 (the CFG pair), one prefill
over an 851-token prefix, then --warmup untimed and --steps timed single-token decode steps, each feeding the last hidden state
back as the next input. Tokens per second count every sequence of the batch. The last line is machine-readable:

    bench ar (pytorch): prefill_tok_s=<x> decode_tok_s=<y> peak_rss_mb=<z>

The layer is written in plain torch (transformers is not needed) with the semantics of transformers 4.44 `LlamaDecoderLayer` in
eager mode: RMSNorm, rotate_half RoPE, causal softmax attention in fp32, SwiGLU. `--cache cat` grows the KV cache with torch.cat
per step, as HF's DynamicCache (what upstream SongBloom runs); `--cache static` writes into a preallocated buffer and attends over a
view of it (no copy of the past), like bloom4j.

Threads: the thread count is set for torch (OpenMP) and for the BLAS library before torch is imported. Which BLAS torch uses matters
far more than anything else here: Debian's python3-torch links the system libblas.so.3, which may be the netlib reference BLAS
(unoptimised). To run it on OpenBLAS, point LD_LIBRARY_PATH at a directory holding libblas.so.3 -> an OpenBLAS libopenblas.so.0
(for instance the one ND4J unpacks under ~/.javacpp/cache/openblas-*/org/bytedeco/openblas/linux-x86_64/). The script prints the
BLAS library it found loaded.
"""
import argparse
import math
import os
import resource
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", type=int, default=36)
    p.add_argument("--dim", type=int, default=1536)
    p.add_argument("--heads", type=int, default=24)
    p.add_argument("--kv-heads", type=int, default=24)
    p.add_argument("--ffn", type=int, default=6144)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--prefix", type=int, default=851)
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--cache", choices=["cat", "static"], default="cat")
    p.add_argument("--theta", type=float, default=20000.0)
    return p.parse_args()


args = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import torch  # noqa: E402  (after the thread variables)
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(1234)


def loaded_blas():
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and line.split()[-1].startswith("/")}
        return ", ".join(sorted(os.path.realpath(l) for l in libs)) or "none found"
    except OSError:
        return "unknown"


def copy_bandwidth():
    """Best of four 256 MiB copies, bytes read + written per second (STREAM Copy's convention), as the Java bench."""
    a = torch.rand(64, 1 << 20)
    b = torch.empty_like(a)
    best = float("inf")
    for _ in range(4):
        t0 = time.perf_counter()
        b.copy_(a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.numel() * 4 / 1e9 / best


class Layer:
    def __init__(self, d, h, kv, ffn):
        hd = d // h
        w = lambda o, i: torch.randn(o, i) * 0.02  # noqa: E731
        self.q, self.k, self.v, self.o = w(h * hd, d), w(kv * hd, d), w(kv * hd, d), w(d, h * hd)
        self.gate, self.up, self.down = w(ffn, d), w(ffn, d), w(d, ffn)
        self.ln1, self.ln2 = torch.ones(d), torch.ones(d)

    def nbytes(self):
        return sum(t.numel() * 4 for t in (self.q, self.k, self.v, self.o, self.gate, self.up, self.down, self.ln1, self.ln2))


def rms_norm(x, w, eps=1e-6):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope(positions, hd, theta):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    f = positions[:, None].float() * inv[None, :]
    emb = torch.cat((f, f), dim=-1)
    return emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, T, hd]


class Cache:
    def __init__(self, layers, b, kv, hd, capacity, static):
        self.static = static
        self.len = 0
        if static:
            self.k = [torch.empty(b, kv, capacity, hd) for _ in range(layers)]
            self.v = [torch.empty(b, kv, capacity, hd) for _ in range(layers)]
        else:
            self.k = [None] * layers
            self.v = [None] * layers

    def update(self, i, k, v):
        """Appends this call's keys/values of layer i and returns everything to attend over."""
        if self.static:
            t = k.shape[2]
            self.k[i][:, :, self.len:self.len + t] = k
            self.v[i][:, :, self.len:self.len + t] = v
            return self.k[i][:, :, :self.len + t], self.v[i][:, :, :self.len + t]
        if self.k[i] is None:
            self.k[i], self.v[i] = k, v
        else:
            self.k[i] = torch.cat([self.k[i], k], dim=2)
            self.v[i] = torch.cat([self.v[i], v], dim=2)
        return self.k[i], self.v[i]


def forward(x, layers, norm, cache, a):
    b, t, d = x.shape
    h, kv = a.heads, a.kv_heads
    hd = d // h
    past = cache.len
    cos, sin = rope(torch.arange(past, past + t), hd, a.theta)
    mask = None
    if t > 1:
        mask = torch.full((t, past + t), torch.finfo(torch.float32).min).triu(past + 1)[None, None]
    for i, l in enumerate(layers):
        r = x
        y = rms_norm(x, l.ln1)
        q = F.linear(y, l.q).view(b, t, h, hd).transpose(1, 2)
        k = F.linear(y, l.k).view(b, t, kv, hd).transpose(1, 2)
        v = F.linear(y, l.v).view(b, t, kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = cache.update(i, k, v)
        if kv != h:
            k = k.repeat_interleave(h // kv, dim=1)
            v = v.repeat_interleave(h // kv, dim=1)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd)
        if mask is not None:
            s = s + mask
        p = torch.softmax(s, dim=-1, dtype=torch.float32)
        o = torch.matmul(p, v).transpose(1, 2).reshape(b, t, h * hd)
        x = r + F.linear(o, l.o)
        y = rms_norm(x, l.ln2)
        x = x + F.linear(F.silu(F.linear(y, l.gate)) * F.linear(y, l.up), l.down)
    cache.len += t
    return rms_norm(x, norm)


def main(a):
    print(f"bench ar (pytorch {torch.__version__}): {a.layers} layers, dim {a.dim}, {a.heads} heads / {a.kv_heads} kv, ffn {a.ffn}, "
          f"batch {a.batch}, prefix {a.prefix}, {a.steps} decode steps, fp32, {torch.get_num_threads()} threads, cache {a.cache}")
    print(f"BLAS loaded: {loaded_blas()}")
    t0 = time.perf_counter()
    layers = [Layer(a.dim, a.heads, a.kv_heads, a.ffn) for _ in range(a.layers)]
    norm = torch.ones(a.dim)
    nbytes = sum(l.nbytes() for l in layers) + norm.numel() * 4
    print(f"built {a.layers} layers ({nbytes / 1e9:.2f} GB of weights) in {time.perf_counter() - t0:.1f} s")
    hd = a.dim // a.heads
    cache = Cache(a.layers, a.batch, a.kv_heads, hd, a.prefix + a.warmup + a.steps, a.cache == "static")
    with torch.inference_mode():
        x = torch.randn(a.batch, a.prefix, a.dim)
        t0 = time.perf_counter()
        y = forward(x, layers, norm, cache, a)
        prefill = time.perf_counter() - t0
        print(f"prefill: {a.batch} x {a.prefix} tokens in {prefill:.2f} s = {a.batch * a.prefix / prefill:.1f} tok/s")
        x = y[:, -1:].clone()
        for _ in range(a.warmup):
            x = forward(x, layers, norm, cache, a).clone()
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            x = forward(x, layers, norm, cache, a).clone()
            times.append(time.perf_counter() - t0)
        step = sum(times) / a.steps
        times.sort()
    decode = a.batch / step
    print(f"decode: {step * 1e3:.1f} ms/step (median {times[len(times) // 2] * 1e3:.1f}, best {times[0] * 1e3:.1f}) at context "
          f"{a.prefix + a.warmup}..{cache.len} = {decode:.2f} tok/s (batch {a.batch})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
    bw = copy_bandwidth()
    print(f"memory copy bandwidth: {bw:.1f} GB/s (read + write, 256 MiB copy, after the run)")
    limit = nbytes / (bw * 1e9)
    print(f"decode limit: {nbytes / 1e9:.2f} GB of weights / {bw:.1f} GB/s = {limit * 1e3:.1f} ms/step = {a.batch / limit:.2f} tok/s; "
          f"measured {100 * limit / step:.0f}% of it")
    print(f"bench ar (pytorch): prefill_tok_s={a.batch * a.prefix / prefill:.2f} decode_tok_s={decode:.3f} peak_rss_mb={rss}")


if __name__ == "__main__":
    if args.dim % args.heads or args.heads % args.kv_heads:
        sys.exit("--dim must be a multiple of --heads, and --heads of --kv-heads")
    main(args)
