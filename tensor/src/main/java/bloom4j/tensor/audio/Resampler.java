package bloom4j.tensor.audio;

/**
 * Band-limited resampling with a Hann-windowed sinc, matching torchaudio's {@code functional.resample} with its defaults
 * ({@code resampling_method="sinc_interp_hann"}, {@code lowpass_filter_width=6}, {@code rolloff=0.99}), which SongBloom uses to
 * bring prompts to 48 kHz and MuQ to 24 kHz.
 *
 * <p>torchaudio's algorithm ({@code torchaudio/functional/functional.py}, {@code _get_sinc_resample_kernel} and
 * {@code _apply_sinc_resample_kernel}): with the rates reduced by their gcd to {@code orig}, {@code new},
 * <pre>
 *   base  = min(orig, new) · rolloff                         cut-off, in units of the reduced rates
 *   w     = ceil(lowpass_filter_width · orig / base)          half-width in input samples
 *   t[p][k] = (−p/new + (k − w)/orig) · base,  p = 0..new−1, k = 0..2w+orig−1, clamped to ±lowpass_filter_width
 *   h[p][k] = sinc(π t) · cos²(π t / (2·lowpass_filter_width)) · base/orig
 *   y[m·new + p] = Σ_k xpad[m·orig + k] · h[p][k],  xpad = x with w zeros before and w + orig after
 * </pre>
 * and the output keeps the first {@code ceil(new · length / orig)} samples. This is a polyphase filter: phase p produces every
 * new-th output sample with its own kernel, the input advancing by orig samples per output block.
 *
 * <p>Numerics: torchaudio builds the kernel in the waveform's dtype, so for float32 audio every step above is a float32
 * operation; this class repeats those steps in float arithmetic in the same order (the only difference being Java's correctly
 * rounded sin/cos against PyTorch's ≤ 1 ulp vectorised ones) and accumulates the convolution in double. Kernel taps where t
 * reached the clamp (|t| ≥ lowpass_filter_width, weights below 1e-20) are skipped, which keeps rates with a large reduced
 * {@code orig} (44101 → 48000 reduces to nothing) cheap instead of allocating {@code new × (2w + orig)} taps.
 * ResamplerTest measures the agreement with torch-computed references: kernels within 1.2e-7, outputs within 1.8e-7 (max abs,
 * signals of amplitude ≤ 0.9; asserted at 2e-7 and 1e-6).
 */
public final class Resampler {
    public static final int DEFAULT_LOWPASS_FILTER_WIDTH = 6;
    public static final double DEFAULT_ROLLOFF = 0.99;

    private final int origRate;
    private final int newRate;
    private final int orig;        // reduced by the gcd
    private final int up;          // reduced new rate
    private final int width;
    private final int[] firstTap;  // per phase p: first k with a non-clamped tap
    private final float[][] taps;  // per phase p: h[p][firstTap[p] ..]

    /** A resampler from {@code origRate} to {@code newRate} Hz with torchaudio's default filter. */
    public Resampler(int origRate, int newRate) { this(origRate, newRate, DEFAULT_LOWPASS_FILTER_WIDTH, DEFAULT_ROLLOFF); }

    public Resampler(int origRate, int newRate, int lowpassFilterWidth, double rolloff) {
        if (origRate <= 0 || newRate <= 0) {
            throw new IllegalArgumentException("sample rates must be positive, got " + origRate + " -> " + newRate);
        }
        if (lowpassFilterWidth <= 0) throw new IllegalArgumentException("lowpass filter width must be positive");
        if (!(rolloff > 0 && rolloff <= 1)) throw new IllegalArgumentException("rolloff must be in (0, 1], got " + rolloff);
        this.origRate = origRate;
        this.newRate = newRate;
        int g = gcd(origRate, newRate);
        this.orig = origRate / g;
        this.up = newRate / g;
        double base = Math.min(orig, up) * rolloff;
        this.width = (int) Math.ceil(lowpassFilterWidth * (double) orig / base);
        int kLen = 2 * width + orig;
        this.firstTap = new int[up];
        this.taps = new float[up][];
        if (origRate == newRate) return;
        float fBase = (float) base;
        float fPi = (float) Math.PI;
        float lpw = lowpassFilterWidth;
        float fScale = (float) (base / orig);
        for (int p = 0; p < up; p++) {
            float tp = (float) (-p) / (float) up;                        // torch.arange(0, -new, -1) / new
            int lo = -1, hi = -1;
            // Only taps with |t| < width can be non-clamped: k − w within orig·(p/new ± width/base), plus a margin for rounding.
            double centre = width + (double) orig * p / up;
            double reach = orig * (double) lowpassFilterWidth / base;
            int kFrom = (int) Math.max(0, Math.floor(centre - reach) - 2);
            int kTo = (int) Math.min(kLen, Math.ceil(centre + reach) + 3);
            float[] row = new float[Math.max(0, kTo - kFrom)];
            for (int k = kFrom; k < kTo; k++) {
                float idx = (float) (k - width) / (float) orig;          // torch.arange(-w, w + orig) / orig
                float t = (tp + idx) * fBase;
                if (Math.abs(t) >= lpw) continue;                         // clamped: weight < 1e-20, skipped
                float window = (float) Math.cos(t * fPi / lpw / 2f);
                window = window * window;                                 // cos(...) ** 2
                float tt = t * fPi;
                float sinc = tt == 0f ? 1f : (float) Math.sin(tt) / tt;
                row[k - kFrom] = sinc * (window * fScale);
                if (lo < 0) lo = k;
                hi = k;
            }
            firstTap[p] = Math.max(lo, 0);
            taps[p] = lo < 0 ? new float[0] : java.util.Arrays.copyOfRange(row, lo - kFrom, hi + 1 - kFrom);
        }
    }

    /** Resamples every channel to {@code newRate}; the same audio when the rates are equal. */
    public static Audio resample(Audio audio, int newRate) {
        if (audio.sampleRate() == newRate) return audio;
        return new Resampler(audio.sampleRate(), newRate).apply(audio);
    }

    /** Resamples one channel sampled at {@code origRate}. */
    public static float[] resample(float[] x, int origRate, int newRate) { return new Resampler(origRate, newRate).apply(x); }

    /** Applies this resampler to every channel of {@code audio}, which must be at the rate it was built for. */
    public Audio apply(Audio audio) {
        if (audio.sampleRate() != origRate) {
            throw new IllegalArgumentException("resampler built for " + origRate + " Hz, audio is at " + audio.sampleRate() + " Hz");
        }
        if (origRate == newRate) return audio;
        float[][] out = new float[audio.channels()][];
        for (int c = 0; c < out.length; c++) out[c] = apply(audio.channelView(c));
        return Audio.wrap(out, newRate);
    }

    /** Resamples one channel: {@code ceil(new · length / orig)} samples (reduced rates), as torchaudio returns. */
    public float[] apply(float[] x) {
        if (origRate == newRate) return x.clone();
        long length = x.length;
        long target = (up * length + orig - 1) / orig;
        if (target > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("resampled length " + target + " too large");
        float[] y = new float[(int) target];
        for (int j = 0; j < y.length; j++) {
            int m = j / up;
            int p = j - m * up;
            float[] h = taps[p];
            long start = (long) m * orig + firstTap[p] - width;           // index into x of h[0]
            double acc = 0;
            int k0 = (int) Math.max(0, -start);
            int k1 = (int) Math.min(h.length, length - start);
            for (int k = k0; k < k1; k++) acc += (double) x[(int) (start + k)] * h[k];
            y[j] = (float) acc;
        }
        return y;
    }

    /**
     * The dense kernel {@code [new][2w + orig]} as torchaudio's {@code _get_sinc_resample_kernel} returns it (reduced rates),
     * with the clamped taps as zeros. For tests and inspection.
     */
    public float[][] kernel() {
        float[][] k = new float[up][2 * width + orig];
        for (int p = 0; p < up; p++) System.arraycopy(taps[p], 0, k[p], firstTap[p], taps[p].length);
        return k;
    }

    /** The half-width w of the filter in input samples (torchaudio's {@code width}). */
    public int width() { return width; }

    public int origRate() { return origRate; }

    public int newRate() { return newRate; }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
