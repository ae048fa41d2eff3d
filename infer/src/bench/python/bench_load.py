#!/usr/bin/env python3
"""Side-by-side reference for `bloom4j bench load`: makes ~2 GB test checkpoints (once) and times PyTorch loading them.

    python3 infer/src/bench/python/bench_load.py --dir /tmp/bloom4j-bench --gb 2
    ./bloom4j bench load /tmp/bloom4j-bench/model-2gb.safetensors /tmp/bloom4j-bench/model-2gb.pt

The files hold float32 tensors shaped like a SongBloom layer stack (1536x1536 and 6144x1536 matrices plus norms), written by
torch.save (zip format) and by a minimal safetensors writer below (the `safetensors` package is used when installed).
Times are the best of --repeat runs of torch.load(map_location="cpu") and of safetensors loading to CPU tensors.
"""
import argparse
import json
import os
import struct
import time

import torch


def make_state(gb):
    g = torch.Generator().manual_seed(0)
    state, total, i = {}, 0, 0
    while total < gb * 1e9:
        p = f"model.ar_transformer.layers.{i}."
        for name, shape in (("self_attn.q_proj.weight", (1536, 1536)), ("self_attn.k_proj.weight", (1536, 1536)),
                            ("self_attn.v_proj.weight", (1536, 1536)), ("self_attn.o_proj.weight", (1536, 1536)),
                            ("mlp.gate_proj.weight", (6144, 1536)), ("mlp.up_proj.weight", (6144, 1536)),
                            ("mlp.down_proj.weight", (1536, 6144)), ("input_layernorm.weight", (1536,)),
                            ("post_attention_layernorm.weight", (1536,))):
            t = torch.randn(shape, generator=g)
            state[p + name] = t
            total += t.numel() * 4
        i += 1
    return state


def write_safetensors(path, state):
    header, off = {}, 0
    for k in sorted(state):
        n = state[k].numel() * 4
        header[k] = {"dtype": "F32", "shape": list(state[k].shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for k in sorted(state):
            f.write(state[k].contiguous().numpy().tobytes())
    os.replace(path + ".tmp", path)


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/bloom4j-bench")
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.dir, exist_ok=True)
    tag = f"{a.gb:g}gb"
    st, pt = os.path.join(a.dir, f"model-{tag}.safetensors"), os.path.join(a.dir, f"model-{tag}.pt")
    if not (os.path.exists(st) and os.path.exists(pt)):
        state = make_state(a.gb)
        torch.save(state, pt)
        write_safetensors(st, state)
        del state
    size_pt, size_st = os.path.getsize(pt), os.path.getsize(st)
    t_pt = best(lambda: torch.load(pt, map_location="cpu"), a.repeat)
    print(f"torch.load {os.path.basename(pt)}: {size_pt / 1e9:.3f} GB best {t_pt:.3f} s ({size_pt / 1e9 / t_pt:.2f} GB/s)")
    try:
        from safetensors.torch import load_file
        t_st = best(lambda: load_file(st, device="cpu"), a.repeat)
        print(f"safetensors.torch.load_file {os.path.basename(st)}: best {t_st:.3f} s ({size_st / 1e9 / t_st:.2f} GB/s)")
    except ImportError:
        # Without the package: read header + every tensor into torch tensors, as load_file does.
        def load_st():
            with open(st, "rb") as f:
                n = struct.unpack("<Q", f.read(8))[0]
                header = json.loads(f.read(n))
                data = f.read()
            return {k: torch.frombuffer(bytearray(data[v["data_offsets"][0]:v["data_offsets"][1]]), dtype=torch.float32)
                    .reshape(v["shape"]) for k, v in header.items() if k != "__metadata__"}
        t_st = best(load_st, a.repeat)
        print(f"python safetensors read (no package) {os.path.basename(st)}: best {t_st:.3f} s ({size_st / 1e9 / t_st:.2f} GB/s)")
    print(f"files: {st} {pt}")


if __name__ == "__main__":
    main()
