"""Reference outputs for bloom4j.tensor.audio.Resampler (ResamplerTest).

torchaudio is not installed here, so this evaluates torchaudio.functional.resample's published algorithm (torchaudio 2.x,
functional.py: _get_sinc_resample_kernel + _apply_sinc_resample_kernel, defaults sinc_interp_hann, lowpass_filter_width 6,
rolloff 0.99) with the same torch ops, in the waveform's dtype (float32), as torchaudio does when it is called on a float32
waveform. Written from the formula; run with torch 1.13:

    /usr/bin/python3 tensor/src/test/python/resample_reference.py tensor/src/test/resources/bloom4j/audio/resample-reference.safetensors
"""
import json
import math
import struct
import sys

import torch


def sinc_hann_kernel(orig, new, width_zeros=6, rolloff=0.99, dtype=torch.float32):
    g = math.gcd(orig, new)
    orig, new = orig // g, new // g
    base = min(orig, new) * rolloff
    width = math.ceil(width_zeros * orig / base)
    idx = torch.arange(-width, width + orig, dtype=dtype)[None, None] / orig          # [1, 1, K]
    t = torch.arange(0, -new, -1, dtype=dtype)[:, None, None] / new + idx             # [new, 1, K]
    t = t * base
    t = t.clamp(-width_zeros, width_zeros)
    window = torch.cos(t * math.pi / width_zeros / 2) ** 2
    t = t * math.pi
    k = torch.where(t == 0, torch.tensor(1.0, dtype=dtype), torch.sin(t) / t)
    k = k * (window * (base / orig))
    return k, width, orig, new


def resample(x, orig, new):
    k, width, o, n = sinc_hann_kernel(orig, new)
    length = x.shape[-1]
    xp = torch.nn.functional.pad(x.reshape(-1, length), (width, width + o))
    y = torch.nn.functional.conv1d(xp[:, None], k, stride=o)                           # [C, new, frames]
    y = y.transpose(1, 2).reshape(xp.shape[0], -1)
    return y[:, : math.ceil(n * length / o)], k


def signal(channels, length, rate):
    t = torch.arange(length, dtype=torch.float64) / rate
    g = torch.Generator().manual_seed(1234)
    rows = []
    for c in range(channels):
        s = 0.5 * torch.sin(2 * math.pi * (220.0 * (c + 1)) * t) + 0.2 * torch.sin(2 * math.pi * 5000.0 * t + c)
        s = s + 0.05 * torch.randn(length, generator=g, dtype=torch.float64)
        rows.append(s)
    x = torch.stack(rows).float()
    x[:, length // 3] = 0.9                                                             # a click
    return x


def write_safetensors(path, tensors, meta):
    header, blobs, off = {"__metadata__": meta}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": {torch.float32: "F32", torch.int64: "I64"}[t.dtype], "shape": list(t.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main(out):
    cases = [(44100, 48000, 2, 1500), (16000, 48000, 1, 700), (48000, 24000, 2, 2000), (22050, 48000, 1, 999),
             (24000, 16000, 1, 1201), (8000, 44100, 1, 333), (48000, 44100, 2, 1700)]
    tensors = {}
    for orig, new, ch, n in cases:
        x = signal(ch, n, orig)
        y, k = resample(x, orig, new)
        name = f"{orig}_{new}"
        tensors[name + ".in"] = x
        tensors[name + ".out"] = y.contiguous()
        tensors[name + ".kernel"] = k[:, 0, :].contiguous()
    write_safetensors(out, tensors, {"torch": torch.__version__, "cases": json.dumps(cases)})


if __name__ == "__main__":
    main(sys.argv[1])
