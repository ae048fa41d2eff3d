package bloom4j.models.songbloom;

import bloom4j.nn.Scope;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

/**
 * The prompt-audio condition of SongBloom after the VAE encoder: upstream {@code AudioTokenizerConditioner.forward}
 * ({@code SongBloom/models/musicgen/conditioners/wav.py}, tencent-ailab/SongBloom@ef78022): {@code output_proj = Linear(latent_dim, dim, bias=False)} over the prompt latents {@code [T, latent_dim]} (frames × channels,
 * the transposed VAE output), then padded with zero rows or truncated to {@code max_len}.
 *
 * <p>The null (CFG-unconditional) prompt is all zeros: upstream encodes a silent stand-in and multiplies the result by its length
 * mask, which is 0 everywhere. For the conditional prompt the mask is 1 on every row (its length rounds to {@code max_len}), so
 * the padding rows are the zeros the padding wrote.
 *
 * <p>Checkpoint key: {@code model.condition_provider.conditioners.prompt_wav.output_proj.weight [dim, latent_dim]}. When
 * {@code latent_dim == dim} upstream uses {@code nn.Identity} and stores nothing.
 */
public final class PromptConditioner {
    /** Scope of the prompt conditioner in the released checkpoint. */
    public static final String SCOPE = "model.condition_provider.conditioners.prompt_wav";

    private final INDArray outputProj;   // [dim, latent] or null (identity)
    private final int latentDim;
    private final int dim;
    private final int maxLen;

    private PromptConditioner(INDArray outputProj, int latentDim, int dim, int maxLen) {
        this.outputProj = outputProj;
        this.latentDim = latentDim;
        this.dim = dim;
        this.maxLen = maxLen;
    }

    /** Loads {@code output_proj.weight} from {@code s} (the prompt conditioner's scope), unless the projection is the identity. */
    public static PromptConditioner load(Scope s, int latentDim, int dim, int maxLen) {
        if (maxLen < 1) throw new IllegalArgumentException("prompt max_len must be >= 1, got " + maxLen);
        INDArray w = latentDim == dim && !s.pp("output_proj").has("weight") ? null : s.pp("output_proj").array("weight", dim, latentDim);
        return new PromptConditioner(w == null ? null : w.castTo(DataType.FLOAT), latentDim, dim, maxLen);
    }

    public int maxLen() { return maxLen; }

    /** The conditional prompt rows {@code [maxLen, dim]} from VAE latents {@code [T, latent_dim]} (frames × channels). */
    public INDArray condition(INDArray latents) {
        if (latents.rank() != 2 || latents.size(1) != latentDim) {
            throw new IllegalArgumentException("prompt latents must be [frames, " + latentDim + "] (frames × VAE channels), got "
                    + Arrays.toString(latents.shape()) + "; transpose a channel-first [" + latentDim + ", frames] VAE output");
        }
        long t = Math.min(latents.size(0), maxLen);
        INDArray x = latents.get(NDArrayIndex.interval(0, t), NDArrayIndex.all()).castTo(DataType.FLOAT);
        INDArray out = Nd4j.zeros(DataType.FLOAT, maxLen, dim);
        if (t > 0) {
            INDArray proj = outputProj == null ? x : x.mmul(outputProj.transpose());   // [t, latent]·[latent, dim]
            out.get(NDArrayIndex.interval(0, t), NDArrayIndex.all()).assign(proj);
        }
        return out;
    }

    /** The CFG pair {@code [2, maxLen, dim]}: row 0 the conditional prompt, row 1 the null prompt (zeros). */
    public INDArray cfgBatch(INDArray latents) {
        INDArray out = Nd4j.zeros(DataType.FLOAT, 2, maxLen, dim);
        out.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all()).assign(condition(latents));
        return out;
    }
}
