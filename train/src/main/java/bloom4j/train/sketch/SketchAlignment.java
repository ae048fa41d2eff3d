package bloom4j.train.sketch;

/**
 * The frame-count rule that makes sketch tokens line up 1:1 with SongBloom's VAE latent frames (both 25 frames/s, 40 ms).
 *
 * <p>VAE (Oobleck, hop 1920 at 48 kHz; tencent-ailab/SongBloom@ef78022 {@code stable_audio_1920_vae.json}): each encoder stage is a conv with kernel 2s, stride s, padding s/2, all
 * strides even, so a stage maps L to ⌊L/s⌋ and the latent has {@code T_lat = ⌊L48 / 1920⌋} frames for {@code L48} samples at 48 kHz.
 * A file at another rate is resampled to {@code L48 = ⌈L · 48000 / sr⌉} samples first (torchaudio's resampled length).
 *
 * <p>MuQ (24 kHz input, {@code L24 = L48 / 2} for 48 kHz audio): {@code T_muq = ⌈⌈⌊L24/240⌋/2⌉/2⌉}. Token t and latent frame t cover
 * the same 40 ms span [40t, 40t + 40) ms; since ⌊L24/240⌋ ≥ 4·⌊L48/1920⌋, T_muq is T_lat or T_lat + 1 (the extra token covers
 * the trailing partial frame, which the VAE drops). So the aligned sketch is the first T_lat tokens. Any other difference means the
 * two came from different audio and is an error. (The training loader then cuts both to 16·⌊T/16⌋, whole 0.64 s blocks.)
 */
public final class SketchAlignment {
    /** VAE downsampling at 48 kHz. */
    public static final int VAE_HOP_48K = 1920;

    private SketchAlignment() {}

    /** Latent frames of the VAE for a file of {@code samples} samples at {@code sampleRate}. */
    public static long latentFrames(long samples, int sampleRate) {
        long l48 = sampleRate == 48000 ? samples : ceilDiv(samples * 48000L, sampleRate);
        return l48 / VAE_HOP_48K;
    }

    /** MuQ tokens for {@code samples24k} samples at 24 kHz. */
    public static long muqTokens(long samples24k) {
        long mel = samples24k / 240;
        return ((mel + 1) / 2 + 1) / 2;
    }

    /** The first {@code latentFrames} tokens; {@code tokens} must hold exactly that many or one more. */
    public static int[] align(int[] tokens, long latentFrames) {
        if (tokens.length != latentFrames && tokens.length != latentFrames + 1) {
            throw new IllegalArgumentException("sketch has " + tokens.length + " tokens but the VAE latent has " + latentFrames
                    + " frames; MuQ gives the latent count or one more for the same audio, so these come from different audio");
        }
        return tokens.length == latentFrames ? tokens : java.util.Arrays.copyOf(tokens, (int) latentFrames);
    }

    private static long ceilDiv(long a, long b) { return (a + b - 1) / b; }
}
