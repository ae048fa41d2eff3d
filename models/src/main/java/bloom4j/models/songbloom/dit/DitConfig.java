package bloom4j.models.songbloom.dit;

import bloom4j.tensor.io.TensorSource;

import java.io.IOException;

/**
 * Sizes of SongBloom's local DiT ({@code MVSA_DiTAR.nar_dit} and the layers around it, songbloom_mvsa.py L124-155 at ef78022).
 *
 * @param dim                  model width D (1536)
 * @param heads                attention heads (24); head width D / heads
 * @param depth                DiT layers ({@code diff_layers}, 12)
 * @param latentDim            VAE latent channels (64)
 * @param blockSize            frames per block (16)
 * @param hiddenScale          feed-forward width factor ({@code hidden_scale}, 4)
 * @param timestepFeaturesDim  Fourier time features (256: 128 frequencies, cos and sin)
 * @param rotaryBase           RoPE base (20000, hard-coded upstream since 990987e)
 * @param layerNormEps         LayerNorm epsilon (F.layer_norm's default 1e-5)
 */
public record DitConfig(int dim, int heads, int depth, int latentDim, int blockSize, int hiddenScale, int timestepFeaturesDim,
                        double rotaryBase, double layerNormEps) {

    public static final double ROTARY_BASE = 20000;
    public static final double LAYER_NORM_EPS = 1e-5;

    public DitConfig {
        if (dim <= 0 || heads <= 0 || depth <= 0 || latentDim <= 0 || blockSize <= 0 || hiddenScale <= 0 || timestepFeaturesDim <= 0) {
            throw new IllegalArgumentException("DiT sizes must be positive: " + this);
        }
        if (dim % heads != 0) throw new IllegalArgumentException("dim " + dim + " is not a multiple of heads " + heads);
        if (timestepFeaturesDim % 2 != 0) throw new IllegalArgumentException("timestep_features_dim must be even, got " + timestepFeaturesDim);
        int hd = dim / heads, rot = Math.max(hd / 2, 32);
        if (rot > hd || rot % 2 != 0) {
            throw new IllegalArgumentException("head width " + hd + " cannot take upstream's rotary width max(head/2, 32) = " + rot);
        }
    }

    /** The released 150 s / 240 s models. */
    public static DitConfig released() { return new DitConfig(1536, 24, 12, 64, 16, 4, 256, ROTARY_BASE, LAYER_NORM_EPS); }

    public int headDim() { return dim / heads; }

    /** Upstream {@code RotaryEmbedding(max(dim_heads // 2, 32))}: 32 of 64 head dims for the release. */
    public int rotaryDim() { return Math.max(headDim() / 2, 32); }

    public int ffDim() { return dim * hiddenScale; }

    /** DiT input tokens: time, h, block sketch embeddings, previous block, noisy block (50 for the release). */
    public int sequenceLength() { return 2 + 3 * blockSize; }

    /**
     * Reads the sizes a checkpoint determines ({@code model.project_in}, {@code model.block_conv.1}, layer count, feed-forward and
     * time-feature widths); the head count is not in the weights and comes from the YAML ({@code num_heads}).
     */
    public static DitConfig fromCheckpoint(TensorSource src, int heads) throws IOException {
        long[] pin = shape(src, "model.project_in.weight");                  // [D, latent]
        long[] bc = shape(src, "model.block_conv.1.weight");                 // [D, block·latent]
        long[] up = shape(src, "model.nar_dit.layers.0.ff.ff.0.up_proj.weight");   // [ff, D]
        long[] te = shape(src, "model.to_timestep_embed.0.weight");          // [D, features]
        int depth = 0;
        while (src.contains("model.nar_dit.layers." + depth + ".self_attn.to_qkv.weight")) depth++;
        int dim = (int) pin[0], latent = (int) pin[1];
        if (bc[1] % latent != 0 || up[0] % dim != 0) {
            throw new IOException(src.description() + ": block_conv input " + bc[1] + " / latent " + latent + " or ff " + up[0] + " / dim "
                    + dim + " is not whole");
        }
        return new DitConfig(dim, heads, depth, latent, (int) (bc[1] / latent), (int) (up[0] / dim), (int) te[1], ROTARY_BASE,
                LAYER_NORM_EPS);
    }

    private static long[] shape(TensorSource src, String key) throws IOException {
        if (!src.contains(key)) {
            throw new IOException(src.description() + ": missing '" + key + "': not a SongBloom checkpoint (run 'bloom4j convert' on "
                    + "songbloom_full_150s.pt)");
        }
        return src.info(key).shape();
    }
}
