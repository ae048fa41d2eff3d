package bloom4j.tensor.audio;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * A block of audio in memory: float samples, channels first ({@code [channels][frames]}), and its sample rate. Values are
 * nominally in [-1, 1] (PCM files are scaled as torchaudio does, e.g. int16 by 1/32768), but nothing clips them.
 *
 * <p>Immutable: factories copy what they are given and accessors return copies, except {@link #channelView} which exists for
 * loops over long recordings and must not be written to.
 */
public final class Audio {
    private final float[][] samples;   // [channels][frames]
    private final int sampleRate;

    private Audio(float[][] samples, int sampleRate) {
        if (sampleRate <= 0) throw new IllegalArgumentException("sample rate must be positive, got " + sampleRate);
        if (samples.length == 0) throw new IllegalArgumentException("audio needs at least one channel");
        int n = samples[0].length;
        for (int c = 1; c < samples.length; c++) {
            if (samples[c].length != n) {
                throw new IllegalArgumentException("channel " + c + " has " + samples[c].length + " frames, channel 0 has " + n);
            }
        }
        this.samples = samples;
        this.sampleRate = sampleRate;
    }

    /** Audio from channel arrays {@code [channels][frames]} (copied). */
    public static Audio of(float[][] channels, int sampleRate) {
        float[][] copy = new float[channels.length][];
        for (int c = 0; c < channels.length; c++) copy[c] = channels[c].clone();
        return new Audio(copy, sampleRate);
    }

    /** One channel (copied). */
    public static Audio mono(float[] samples, int sampleRate) { return new Audio(new float[][] {samples.clone()}, sampleRate); }

    /** Takes ownership of {@code channels}: for codecs and resamplers in this package that built the arrays themselves. */
    static Audio wrap(float[][] channels, int sampleRate) { return new Audio(channels, sampleRate); }

    /** From an array {@code [channels, frames]}, {@code [1, channels, frames]} or {@code [frames]} (mono), in any float type. */
    public static Audio fromINDArray(INDArray a, int sampleRate) {
        INDArray x = a.castTo(DataType.FLOAT);
        if (x.rank() == 3 && x.size(0) == 1) x = x.reshape(x.size(1), x.size(2));
        if (x.rank() == 1) x = x.reshape(1, x.length());
        if (x.rank() != 2) {
            throw new IllegalArgumentException("audio array must be [frames], [channels, frames] or [1, channels, frames], got "
                    + Arrays.toString(a.shape()));
        }
        return new Audio(x.dup('c').toFloatMatrix(), sampleRate);
    }

    public int channels() { return samples.length; }

    public int frames() { return samples[0].length; }

    public int sampleRate() { return sampleRate; }

    public double durationSeconds() { return frames() / (double) sampleRate; }

    /** Channel {@code c} (copied). */
    public float[] channel(int c) { return samples[c].clone(); }

    /** Channel {@code c} without a copy: read only. */
    public float[] channelView(int c) { return samples[c]; }

    /** All samples {@code [channels][frames]} (copied). */
    public float[][] samples() {
        float[][] copy = new float[samples.length][];
        for (int c = 0; c < samples.length; c++) copy[c] = samples[c].clone();
        return copy;
    }

    /** {@code [channels, frames]} FLOAT. */
    public INDArray toINDArray() { return Nd4j.create(samples); }

    /**
     * The mean of the channels, as upstream SongBloom ({@code infer.py}: {@code prompt_wav.mean(dim=0, keepdim=True)}) and MuQ
     * mix a prompt down; a mono input is returned as it is.
     */
    public Audio mono() {
        if (samples.length == 1) return this;
        int n = frames();
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            float s = 0f;
            for (float[] ch : samples) s += ch[i];                 // float sum in channel order, as torch.mean over 2 channels
            m[i] = s / samples.length;
        }
        return new Audio(new float[][] {m}, sampleRate);
    }

    /**
     * {@code count} channels: mono is duplicated (SongBloom's StableVAE feeds mono prompts to the stereo VAE this way), any
     * input goes to mono by {@link #mono()}; other changes are refused rather than guessed.
     */
    public Audio toChannels(int count) {
        if (count == samples.length) return this;
        if (count == 1) return mono();
        if (samples.length == 1) {
            float[][] out = new float[count][];
            for (int c = 0; c < count; c++) out[c] = samples[0].clone();
            return new Audio(out, sampleRate);
        }
        throw new IllegalArgumentException("cannot map " + samples.length + " channels to " + count + ": only mono <-> N is defined");
    }

    /** Frames {@code [from, to)}. */
    public Audio slice(int from, int to) {
        if (from < 0 || to > frames() || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + frames() + " frames");
        }
        float[][] out = new float[samples.length][];
        for (int c = 0; c < samples.length; c++) out[c] = Arrays.copyOfRange(samples[c], from, to);
        return new Audio(out, sampleRate);
    }

    /** The first {@code maxFrames} frames (all of them if shorter). */
    public Audio truncate(int maxFrames) { return frames() <= maxFrames ? this : slice(0, maxFrames); }

    /** The largest absolute sample value. */
    public float peak() {
        float p = 0f;
        for (float[] ch : samples) for (float v : ch) p = Math.max(p, Math.abs(v));
        return p;
    }

    @Override public String toString() {
        return String.format(java.util.Locale.ROOT, "Audio(%d ch, %d Hz, %d frames = %.3f s)", channels(), sampleRate, frames(),
                durationSeconds());
    }
}
