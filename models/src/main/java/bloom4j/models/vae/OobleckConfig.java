package bloom4j.models.vae;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * The stable-audio-tools autoencoder configuration ({@code model_type: autoencoder}, Oobleck encoder/decoder, {@code vae}
 * bottleneck), as in SongBloom's {@code stable_audio_1920_vae.json}.
 *
 * @param sampleRate        audio sample rate (48000)
 * @param ioChannels        audio channels in and out (2)
 * @param latentDim         bottleneck latent channels (64); the encoder emits twice as many (mean and scale)
 * @param channels          base channel count (128)
 * @param cMults            channel multipliers per block ([1, 2, 4, 8, 16]); upstream prepends a 1
 * @param strides           downsampling per encoder block ([2, 4, 4, 6, 10]); the decoder upsamples in reverse order
 * @param useSnake          SnakeBeta activations (true) rather than ELU
 * @param finalTanh         tanh on the decoder output (false for SongBloom)
 */
public record OobleckConfig(int sampleRate, int ioChannels, int latentDim, int channels, List<Integer> cMults, List<Integer> strides,
                            boolean useSnake, boolean finalTanh) {

    public OobleckConfig {
        cMults = List.copyOf(cMults);
        strides = List.copyOf(strides);
        if (sampleRate <= 0 || ioChannels <= 0 || latentDim <= 0 || channels <= 0) {
            throw new IllegalArgumentException("Oobleck sizes must be positive: " + this);
        }
        if (cMults.isEmpty() || cMults.size() != strides.size()) {
            throw new IllegalArgumentException("c_mults " + cMults + " and strides " + strides + " must be non-empty and of equal length");
        }
        for (int s : strides) if (s < 1) throw new IllegalArgumentException("strides must be >= 1: " + strides);
        if (!useSnake) throw new IllegalArgumentException("use_snake=false (ELU) Oobleck models are not supported; SongBloom's uses Snake");
    }

    /** SongBloom's VAE (stable_audio_1920_vae.json): 48 kHz stereo, 64 latents at 25 Hz. */
    public static OobleckConfig songBloom() {
        return new OobleckConfig(48000, 2, 64, 128, List.of(1, 2, 4, 8, 16), List.of(2, 4, 4, 6, 10), true, false);
    }

    /** Samples per latent frame: the product of the strides (1920). */
    public int downsamplingRatio() { return strides.stream().reduce(1, (a, b) -> a * b); }

    /** Latent frames per second (25). */
    public double frameRate() { return sampleRate / (double) downsamplingRatio(); }

    /** Channel count entering encoder block i (0-based), i.e. after upstream's {@code c_mults = [1] + c_mults}. */
    int blockIn(int i) { return (i == 0 ? 1 : cMults.get(i - 1)) * channels; }

    /** Channel count leaving encoder block i. */
    int blockOut(int i) { return cMults.get(i) * channels; }

    int depth() { return cMults.size(); }

    /**
     * Reads a stable-audio-tools JSON config; the encoder and decoder must agree (they do in every released Oobleck VAE), and the
     * encoder's latent_dim must be twice the bottleneck's (VAE bottleneck: mean and scale).
     */
    public static OobleckConfig fromJson(JsonNode root) {
        JsonNode model = root.path("model");
        JsonNode enc = model.path("encoder"), dec = model.path("decoder");
        require(enc.path("type").asText("").equals("oobleck") && dec.path("type").asText("").equals("oobleck"),
                "encoder and decoder type must be 'oobleck', got '" + enc.path("type").asText() + "' / '" + dec.path("type").asText() + "'");
        require(model.path("bottleneck").path("type").asText("").equals("vae"),
                "bottleneck type must be 'vae', got '" + model.path("bottleneck").path("type").asText() + "'");
        JsonNode ec = enc.path("config"), dc = dec.path("config");
        List<Integer> cm = ints(ec.path("c_mults")), st = ints(ec.path("strides"));
        require(cm.equals(ints(dc.path("c_mults"))) && st.equals(ints(dc.path("strides"))) && ec.path("channels").asInt()
                == dc.path("channels").asInt(), "encoder and decoder must share channels, c_mults and strides");
        int latent = model.path("latent_dim").asInt(dc.path("latent_dim").asInt());
        require(dc.path("latent_dim").asInt() == latent && ec.path("latent_dim").asInt() == 2 * latent,
                "latent_dim: decoder " + dc.path("latent_dim") + ", encoder " + ec.path("latent_dim") + ", expected L and 2L with L = " + latent);
        int io = root.path("audio_channels").asInt(model.path("io_channels").asInt(2));
        require(ec.path("in_channels").asInt(io) == io && dc.path("out_channels").asInt(io) == io, "in/out channels must be " + io);
        OobleckConfig c = new OobleckConfig(root.path("sample_rate").asInt(), io, latent, ec.path("channels").asInt(), cm, st,
                ec.path("use_snake").asBoolean(false), dc.path("final_tanh").asBoolean(true));
        if (model.has("downsampling_ratio")) {
            require(model.path("downsampling_ratio").asInt() == c.downsamplingRatio(), "downsampling_ratio "
                    + model.path("downsampling_ratio") + " is not the product of the strides " + st);
        }
        return c;
    }

    private static List<Integer> ints(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asInt()));
        return out;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("unsupported VAE config: " + message);
    }

    @Override public String toString() {
        return "OobleckConfig[sr=" + sampleRate + ", io=" + ioChannels + ", latent=" + latentDim + ", channels=" + channels + ", c_mults="
                + cMults + ", strides=" + strides + ", snake=" + useSnake + ", tanh=" + finalTanh + "]";
    }
}
