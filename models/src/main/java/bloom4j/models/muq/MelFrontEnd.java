package bloom4j.models.muq;

import bloom4j.tensor.dsp.MelSpectrogram;


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
    private final MelSpectrogram mel;
    private final float mean;
    private final float std;

    public MelFrontEnd(MuqConfig cfg) {
        this.cfg = cfg;
        this.mel = new MelSpectrogram(cfg.sampleRate(), cfg.nFft(), cfg.hopLength(), cfg.nMels(), 0f, cfg.sampleRate() / 2, 2);
        if (mel.bins() != cfg.freqBins()) throw new IllegalArgumentException("MuQ config: " + cfg.freqBins() + " bins for n_fft " + cfg.nFft());
        // torch promotes the Python-float statistics to the tensor's float32 before subtracting and dividing.
        this.mean = (float) cfg.statMean();
        this.std = (float) cfg.statStd();
    }

    public MuqConfig config() { return cfg; }

    /** A copy of the window {@code [n_fft]}. */
    public float[] window() { return mel.window(); }

    /** A copy of the filterbank {@code [n_freqs, n_mels]}. */
    public float[] filterbank() { return mel.filterbank(); }

    /** STFT frames of {@code samples} samples: {@code 1 + ⌊L/hop⌋}. */
    public long stftFrames(long samples) { return mel.stftFrames(samples); }

    /** |STFT|² of frames {@code first .. first+count−1}, frame-major {@code [count, n_freqs]} ({@link MelSpectrogram#spectrumFrames}). */
    public float[] powerFrames(float[] x, long first, int count) {
        if (x.length <= cfg.nFft() / 2) {
            throw new IllegalArgumentException("MuQ needs more than " + cfg.nFft() / 2 + " samples (" + (cfg.nFft() / 2 * 1000 / cfg.sampleRate())
                    + " ms at 24 kHz) for its reflect padding, got " + x.length);
        }
        return mel.spectrumFrames(x, first, count);
    }

    /** Mel power {@code [count, n_mels]} of power frames {@code [count, n_freqs]}: one float32 GEMM with the filterbank. */
    public float[] melPower(float[] power, int count) { return mel.mel(power, count); }

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
        float[] m = melPower(powerFrames(x, first, count), count);   // [count, n_mels]
        toDb(m);
        normalize(m);
        return MelSpectrogram.transpose(m, count, cfg.nMels());
    }

    /** All {@code ⌊L/240⌋} frames of {@code x}: {@code [n_mels, T_mel]}. */
    public float[] features(float[] x) { return features(x, 0, Math.toIntExact(cfg.melFrames(x.length))); }
}
