package bloom4j.models.zipvoice;

import bloom4j.tensor.dsp.MelSpectrogram;

/**
 * ZipVoice's acoustic features, {@code zipvoice.utils.feature.VocosFbank} (k2-fsa/ZipVoice@2f7326f): the Vocos mel spectrogram
 * ({@code torchaudio.transforms.MelSpectrogram(sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100, center=True, power=1)}),
 * then {@code log(clamp(mel, min=1e-7))}, frame-major {@code [T, 100]}, cut to lhotse's {@code compute_num_frames}
 * {@code T = (n + 128) // 256} (the STFT has {@code 1 + n // 256} frames). A multi-channel signal is averaged to mono first. Silent
 * frames give exactly {@code log(1e-7)}. The model multiplies the features by {@code feat_scale} (0.1) afterwards; not here.
 */
public final class VocosFbank {
    public static final int SAMPLE_RATE = 24000, N_FFT = 1024, HOP = 256, N_MELS = 100;
    public static final float LOG_FLOOR = 1e-7f;

    private final MelSpectrogram mel = new MelSpectrogram(SAMPLE_RATE, N_FFT, HOP, N_MELS, 0f, SAMPLE_RATE / 2f, 1);

    /** The mel transform (window, filterbank). */
    public MelSpectrogram spectrogram() { return mel; }

    /** Feature frames of {@code samples} samples: lhotse's {@code compute_num_frames}, {@code (n + hop/2) // hop}. */
    public static long frames(long samples) { return (samples + HOP / 2) / HOP; }

    /** The mel magnitudes before clamp, log and the cut, {@code [1 + n // 256, 100]} frame-major. */
    public float[] melLinear(float[] mono) {
        int count = Math.toIntExact(mel.stftFrames(mono.length));
        return mel.mel(mel.spectrumFrames(mono, 0, count), count);
    }

    /** {@code extract(samples, sampling_rate)}: channels {@code [C][n]} (averaged when C > 1) at 24 kHz → {@code [T, 100]} log-mel. */
    public float[] extract(float[][] channels, int sampleRate) {
        if (sampleRate != SAMPLE_RATE) {
            throw new IllegalArgumentException("ZipVoice features are computed at " + SAMPLE_RATE + " Hz, got audio at " + sampleRate
                    + " Hz: resample it first");
        }
        if (channels.length == 0) throw new IllegalArgumentException("no audio channels");
        float[] mono = channels[0];
        if (channels.length > 1) {
            mono = new float[channels[0].length];
            for (int i = 0; i < mono.length; i++) {
                float s = 0;
                for (float[] c : channels) s += c[i];
                mono[i] = s / channels.length;                      // torch mean over the channel axis, float32
            }
        }
        float[] m = melLinear(mono);
        int t = Math.toIntExact(Math.min(frames(mono.length), mel.stftFrames(mono.length)));
        float[] out = new float[t * N_MELS];
        for (int i = 0; i < out.length; i++) out[i] = (float) Math.log(Math.max(m[i], LOG_FLOOR));
        return out;
    }

    /** {@link #extract(float[][], int)} of one channel. */
    public float[] extract(float[] mono, int sampleRate) { return extract(new float[][] {mono}, sampleRate); }
}
