package bloom4j.models.muq;

import org.jtransforms.fft.DoubleFFT_1D;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MuQ's front end: 24 kHz waveform → normalised log-mel, exactly as upstream (tencent-ailab/MuQ@d4a6658
 * {@code src/muq/muq/modules/features.py} {@code MelSTFT} = torchaudio 0.13 {@code MelSpectrogram(24000, n_fft=2048, hop_length=240,
 * n_mels=128)} + {@code AmplitudeToDB()}; {@code muq_model.py} L184-203 drops the last frame, L227-232 normalises):
 * <pre>
 *   xp      = reflect-pad(x, 1024)                      (edge sample not repeated)
 *   X_t[k]  = Σ_n xp[240t + n] · w[n] · e^(−2πikn/2048),  w = periodic Hann,  t = 0 .. ⌊L/240⌋
 *   P       = |X|²                                       [1025, T+1]
 *   M       = fbᵀ · P                                    HTK mel, 128 bands 0–12 kHz, no area normalisation
 *   D       = 10 · log10(max(M, 1e-10))                  no top_db
 *   F       = (D[:, :−1] − 6.768444971712967) / 18.417922652295623
 * </pre>
 * The window and filterbank are built in float32 arithmetic as torch builds them (they are not in any MuQ checkpoint). The FFT is
 * JTransforms' real FFT in double precision (M2.1 has no FFT op); frames are read through a virtual reflect padding, so any range of
 * frames of a long signal can be computed without copying it: a frame of a clip equals the same frame of the whole song.
 */
public final class MelFrontEnd {
    private static final float AMIN = 1e-10f;

    private final MuqConfig cfg;
    private final float[] window;       // [nFft]
    private final float[] filterbank;   // [freqBins, nMels]
    private final INDArray fbArray;     // the same, as ND4J [freqBins, nMels]
    private final float mean;
    private final float std;

    public MelFrontEnd(MuqConfig cfg) {
        this.cfg = cfg;
        this.window = hannPeriodic(cfg.nFft());
        this.filterbank = htkFilterbank(cfg.freqBins(), 0f, cfg.sampleRate() / 2, cfg.nMels(), cfg.sampleRate());
        this.fbArray = Nd4j.create(filterbank, new long[] {cfg.freqBins(), cfg.nMels()}, 'c');
        // torch promotes the Python-float statistics to the tensor's float32 before subtracting and dividing.
        this.mean = (float) cfg.statMean();
        this.std = (float) cfg.statStd();
    }

    public MuqConfig config() { return cfg; }

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
        float[] allFreqs = linspace(0f, sampleRate / 2, nFreqs);
        double mMin = 2595.0 * Math.log10(1.0 + fMin / 700.0);   // Python floats
        double mMax = 2595.0 * Math.log10(1.0 + fMax / 700.0);
        float[] mPts = linspace((float) mMin, (float) mMax, nMels + 2);
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

    /** {@code torch.linspace} in float32: {@code start + step·i} for the first half, {@code end − step·(n−1−i)} for the rest. */
    static float[] linspace(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) out[i] = i < half ? start + step * i : end - step * (n - 1 - i);
        return out;
    }

    /** A copy of the window {@code [n_fft]}. */
    public float[] window() { return window.clone(); }

    /** A copy of the filterbank {@code [n_freqs, n_mels]}. */
    public float[] filterbank() { return filterbank.clone(); }

    /** STFT frames of {@code samples} samples: {@code 1 + ⌊L/hop⌋}. */
    public long stftFrames(long samples) { return 1 + samples / cfg.hopLength(); }

    /**
     * |STFT|² of frames {@code first .. first+count−1} of the whole signal {@code x}, frame-major {@code [count, n_freqs]}. Frame t is
     * centred on sample {@code hop·t}; samples beyond the ends are reflected, as {@code center=True, pad_mode="reflect"} does.
     */
    public float[] powerFrames(float[] x, long first, int count) {
        int n = cfg.nFft(), bins = cfg.freqBins(), pad = n / 2;
        long len = x.length;
        if (len <= pad) {
            throw new IllegalArgumentException("MuQ needs more than " + pad + " samples (" + (pad * 1000 / cfg.sampleRate())
                    + " ms at 24 kHz) for its reflect padding, got " + len);
        }
        if (first < 0 || first + count > stftFrames(len)) {
            throw new IllegalArgumentException("frames [" + first + ", " + (first + count) + ") outside the " + stftFrames(len) + " of the signal");
        }
        float[] out = new float[count * bins];
        DoubleFFT_1D fft = new DoubleFFT_1D(n);
        double[] buf = new double[n];
        for (int t = 0; t < count; t++) {
            long start = (first + t) * cfg.hopLength() - pad;
            for (int i = 0; i < n; i++) {
                long p = start + i;
                if (p < 0) p = -p;                                  // reflect, edge not repeated
                else if (p >= len) p = 2 * (len - 1) - p;
                buf[i] = x[(int) p] * window[i];                   // frame · window in float32, as torch.stft
            }
            fft.realForward(buf);                                   // packed: [Re0, Re(n/2), Re1, Im1, ...]
            int o = t * bins;
            out[o] = (float) (buf[0] * buf[0]);
            out[o + bins - 1] = (float) (buf[1] * buf[1]);
            for (int k = 1; k < bins - 1; k++) {
                double re = buf[2 * k], im = buf[2 * k + 1];
                out[o + k] = (float) (re * re + im * im);
            }
        }
        return out;
    }

    /** Mel power {@code [count, n_mels]} of power frames {@code [count, n_freqs]}: one float32 GEMM with the filterbank. */
    public float[] melPower(float[] power, int count) {
        INDArray p = Nd4j.create(power, new long[] {count, cfg.freqBins()}, 'c');
        return p.mmul(fbArray).castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** {@code AmplitudeToDB(stype="power", top_db=None)} in place: {@code 10·log10(max(v, 1e-10))}. */
    public static void toDb(float[] mel) {
        for (int i = 0; i < mel.length; i++) mel[i] = 10f * (float) Math.log10(Math.max(mel[i], AMIN));
    }

    /** {@code (D − mean) / std} in place, in float32. */
    public void normalize(float[] db) {
        for (int i = 0; i < db.length; i++) db[i] = (db[i] - mean) / std;
    }

    /**
     * The encoder input for mel frames {@code first .. first+count−1} of the whole signal: normalised log-mel, channel-major
     * {@code [n_mels, count]} (the layout of {@code [B, 128, T]}). Frames are numbered after MuQ drops the last STFT frame, so
     * {@code first + count <= ⌊L/240⌋}.
     */
    public float[] features(float[] x, long first, int count) {
        long total = cfg.melFrames(x.length);
        if (first < 0 || count < 0 || first + count > total) {
            throw new IllegalArgumentException("mel frames [" + first + ", " + (first + count) + ") outside the " + total + " of the signal");
        }
        float[] mel = melPower(powerFrames(x, first, count), count);   // [count, n_mels]
        toDb(mel);
        normalize(mel);
        return transpose(mel, count, cfg.nMels());
    }

    /** All {@code ⌊L/240⌋} frames of {@code x}: {@code [n_mels, T_mel]}. */
    public float[] features(float[] x) { return features(x, 0, Math.toIntExact(cfg.melFrames(x.length))); }

    /** {@code [rows, cols] → [cols, rows]}. */
    public static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }
}
