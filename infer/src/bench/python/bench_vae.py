#!/usr/bin/env python3
"""PyTorch side of `bloom4j bench vae`: SongBloom's Oobleck VAE decoder (stable_audio_1920_vae.json: channels 128, c_mults
[1, 2, 4, 8, 16], strides [2, 4, 4, 6, 10], latent 64, 48 kHz stereo), random weights, CPU float32, decode_audio with chunk 128
and overlap 32 latents, as upstream decodes generated songs.

    python3 infer/src/bench/python/bench_vae.py --threads 2 --seconds 10
    ./bloom4j bench vae --threads 2 --seconds 10

A compact re-statement of the decoder (SongBloom ef78022, vae_frontend/autoencoders.py). Convolutions are plain Conv1d /
ConvTranspose1d: the weight-norm reparametrisation upstream recomputes per forward is folded, as bloom4j folds it at load.

Debian's python3-torch links the reference BLAS (about 5 GFLOP/s); compare against OpenBLAS, as ND4J uses, without touching the
system's BLAS:

    apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/obl
    LD_LIBRARY_PATH=/tmp/obl/usr/lib/x86_64-linux-gnu/openblas-pthread python3 ...
"""
import argparse
import math
import time

import torch
from torch import nn


class Snake(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(c))
        self.beta = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        a = self.alpha.exp()[None, :, None]
        b = self.beta.exp()[None, :, None]
        return x + 1.0 / (b + 1e-9) * torch.sin(x * a) ** 2


class Res(nn.Module):
    def __init__(self, c, d):
        super().__init__()
        self.layers = nn.Sequential(Snake(c), nn.Conv1d(c, c, 7, dilation=d, padding=3 * d), Snake(c), nn.Conv1d(c, c, 1))

    def forward(self, x):
        return x + self.layers(x)


def decoder(ch=128, c_mults=(1, 2, 4, 8, 16), strides=(2, 4, 4, 6, 10), latent=64, io=2):
    c = [1] + list(c_mults)
    layers = [nn.Conv1d(latent, c[-1] * ch, 7, padding=3)]
    for i in range(len(c) - 1, 0, -1):
        s = strides[i - 1]
        cin, cout = c[i] * ch, c[i - 1] * ch
        layers += [nn.Sequential(Snake(cin), nn.ConvTranspose1d(cin, cout, 2 * s, stride=s, padding=math.ceil(s / 2)),
                                 Res(cout, 1), Res(cout, 3), Res(cout, 9))]
    layers += [Snake(c[0] * ch), nn.Conv1d(c[0] * ch, io, 7, padding=3, bias=False)]
    return nn.Sequential(*layers)


def decode_audio(dec, z, ratio, chunk=128, overlap=32):
    total = z.shape[2]
    if total <= chunk:
        return dec(z)
    hop = chunk - overlap
    starts = list(range(0, total - chunk + 1, hop))
    if starts[-1] + chunk != total:
        starts.append(total - chunk)
    y = torch.zeros(z.shape[0], 2, total * ratio)
    ol = (overlap // 2) * ratio
    for i, s0 in enumerate(starts):
        yc = dec(z[:, :, s0:s0 + chunk])
        last = i == len(starts) - 1
        t0, t1 = (total * ratio - yc.shape[2], total * ratio) if last else (i * hop * ratio, i * hop * ratio + chunk * ratio)
        c0, c1 = 0, yc.shape[2]
        if i > 0:
            t0, c0 = t0 + ol, c0 + ol
        if not last:
            t1, c1 = t1 - ol, c1 - ol
        y[:, :, t0:t1] = yc[:, :, c0:c1]
    return y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    with torch.no_grad():
        t0 = time.perf_counter()
        dec = decoder().eval()
        build = time.perf_counter() - t0
        frames = round(a.seconds * 25)
        decode_audio(dec, torch.randn(1, 64, min(frames, 128)), 1920)
        z = torch.randn(1, 64, frames)
        t0 = time.perf_counter()
        y = decode_audio(dec, z, 1920)
        dt = time.perf_counter() - t0
    assert y.shape[2] == frames * 1920
    print(f"bench vae (pytorch {torch.__version__}, threads={a.threads}): {frames} latents = {frames / 25:.2f} s audio, build {build:.1f} s, "
          f"decode {dt:.2f} s, {dt / (frames / 25):.3f} s per audio second")


if __name__ == "__main__":
    main()
