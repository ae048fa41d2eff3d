package bloom4j.tensor.dsp;

import bloom4j.tensor.Floats;

import org.jtransforms.fft.DoubleFFT_1D;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code torchaudio.transforms.MelSpectrogram} with {@code center=True, pad_mode="reflect"}, a periodic Hann window of {@code n_fft},
 * {@code norm=None, mel_scale="htk"} (torchaudio 0.13 {@code transforms/_transforms.py}, {@code functional/functional.py}
 * {@code melscale_fbanks}), power 1 (magnitude) or 2 (power). One implementation for every model that reads mel frames: MuQ's front
 * end (power 2, then dB) and ZipVoice's / Vocos's features (power 1, then log).
 *
 * <p>The STFT is JTransforms' real FFT in double precision (M2.1 has no FFT op); frames are read through a virtual reflect padding,
 * so any range of frames of a long signal can be computed without copying it. Window and filterbank are computed in float32 the
 * way ATen does.
 */
public final class MelSpectrogram {
    private final int sampleRate, nFft, hop, nMels, bins, power;
    private final float[] window;       // [nFft]
    private final float[] filterbank;   // [bins, nMels]
    private final INDArray fbArray;

    /**
     * @param power 1 for magnitudes, 2 for power
     */
    public MelSpectrogram(int sampleRate, int nFft, int hop, int nMels, float fMin, float fMax, int power) {
        if (power != 1 && power != 2) throw new IllegalArgumentException("power must be 1 or 2, got " + power);
        if (nFft < 2 || hop < 1 || nMels < 1) throw new IllegalArgumentException("need n_fft >= 2, hop >= 1, n_mels >= 1");
        this.sampleRate = sampleRate;
        this.nFft = nFft;
        this.hop = hop;
        this.nMels = nMels;
        this.bins = nFft / 2 + 1;
        this.power = power;
        this.window = hannPeriodic(nFft);
        this.filterbank = htkFilterbank(bins, fMin, fMax, nMels, sampleRate);
        this.fbArray = Nd4j.create(filterbank, new long[] {bins, nMels}, 'c');
    }

    public int sampleRate() { return sampleRate; }

    public int nFft() { return nFft; }

    public int hop() { return hop; }

    public int nMels() { return nMels; }

    /** Frequency bins, {@code n_fft/2 + 1}. */
    public int bins() { return bins; }

    /** {@code torch.hann_window(n)} (periodic): {@code 0.5 − 0.5·cos(2πi/n)}, each step in float32 as ATen computes it. */
    public static float[] hannPeriodic(int n) {
        float[] w = new float[n];
        float step = (float) (Math.PI * 2.0 / n);   // ATen: arange(n + 1) · (2π / n), then cos, · −0.5, + 0.5, drop the last
        for (int i = 0; i < n; i++) w[i] = (float) Math.cos((float) i * step) * -0.5f + 0.5f;
        return w;
    }

    /**
     * torchaudio {@code melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk")} in float32:
     * triangles between {@code n_mels + 2} points equally spaced on the HTK mel scale {@code 2595·log10(1 + f/700)}. Returns
     * {@code [n_freqs, n_mels]} row-major.
     */
    public static float[] htkFilterbank(int nFreqs, float fMin, float fMax, int nMels, int sampleRate) {
        float[] allFreqs = Floats.linspace(0f, sampleRate / 2, nFreqs);
        double mMin = 2595.0 * Math.log10(1.0 + fMin / 700.0);   // Python floats
        double mMax = 2595.0 * Math.log10(1.0 + fMax / 700.0);
        float[] mPts = Floats.linspace((float) mMin, (float) mMax, nMels + 2);
        float[] fPts = new float[nMels + 2];
        for (int i = 0; i < fPts.length; i++) {
            float e = mPts[i] / 2595f;
            fPts[i] = 700f * ((float) Math.pow(10.0, e) - 1f);
        }
        float[] fDiff = new float[nMels + 1];
        for (int i = 0; i < fDiff.length; i++) fDiff[i] = fPts[i + 1] - fPts[i];
        float[] fb = new float[nFreqs * nMels];
        for (int k = 0; k < nFreqs; k++) {
            for (int m = 0; m < nMels; m++) {
                float down = -(fPts[m] - allFreqs[k]) / fDiff[m];          // -slopes[:, :-2] / f_diff[:-1]
                float up = (fPts[m + 2] - allFreqs[k]) / fDiff[m + 1];     // slopes[:, 2:] / f_diff[1:]
                fb[k * nMels + m] = Math.max(0f, Math.min(down, up));
            }
        }
        return fb;
    }

    /** A copy of the window {@code [n_fft]}. */
    public float[] window() { return window.clone(); }

    /** A copy of the filterbank {@code [n_freqs, n_mels]}. */
    public float[] filterbank() { return filterbank.clone(); }

    /** STFT frames of {@code samples} samples: {@code 1 + ⌊L/hop⌋}. */
    public long stftFrames(long samples) { return 1 + samples / hop; }

    /**
     * |STFT|^power of frames {@code first .. first+count−1} of the whole signal {@code x}, frame-major {@code [count, n_freqs]}. Frame
     * t is centred on sample {@code hop·t}; samples beyond the ends are reflected, as {@code center=True, pad_mode="reflect"} does
     * (which needs more than {@code n_fft/2} samples).
     */
    public float[] spectrumFrames(float[] x, long first, int count) {
        int n = nFft, pad = n / 2;
        long len = x.length;
        if (len <= pad) {
            throw new IllegalArgumentException("the reflect padding of a " + n + "-point STFT needs more than " + pad + " samples ("
                    + (pad * 1000L / sampleRate) + " ms at " + sampleRate + " Hz), got " + len);
        }
        if (first < 0 || first + count > stftFrames(len)) {
            throw new IllegalArgumentException("frames [" + first + ", " + (first + count) + ") outside the " + stftFrames(len) + " of the signal");
        }
        float[] out = new float[count * bins];
        DoubleFFT_1D fft = new DoubleFFT_1D(n);
        double[] buf = new double[n];
        for (int t = 0; t < count; t++) {
            long start = (first + t) * hop - pad;
            for (int i = 0; i < n; i++) {
                long p = start + i;
                if (p < 0) p = -p;                                  // reflect, edge not repeated
                else if (p >= len) p = 2 * (len - 1) - p;
                buf[i] = x[(int) p] * window[i];                   // frame · window in float32, as torch.stft
            }
            fft.realForward(buf);                                   // packed: [Re0, Re(n/2), Re1, Im1, ...]
            int o = t * bins;
            out[o] = value(buf[0] * buf[0]);
            out[o + bins - 1] = value(buf[1] * buf[1]);
            for (int k = 1; k < bins - 1; k++) {
                double re = buf[2 * k], im = buf[2 * k + 1];
                out[o + k] = value(re * re + im * im);
            }
        }
        return out;
    }

    private float value(double squared) { return (float) (power == 2 ? squared : Math.sqrt(squared)); }

    /** Mel values {@code [count, n_mels]} of spectrum frames {@code [count, n_freqs]}: one float32 GEMM with the filterbank. */
    public float[] mel(float[] spectrum, int count) {
        INDArray p = Nd4j.create(spectrum, new long[] {count, bins}, 'c');
        return p.mmul(fbArray).castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** {@code [rows, cols] → [cols, rows]}. */
    public static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }
}
