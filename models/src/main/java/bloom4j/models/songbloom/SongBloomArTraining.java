package bloom4j.models.songbloom;

import bloom4j.models.llama.LlamaConfig;
import bloom4j.models.llama.LlamaDecoder;
import bloom4j.nn.AttentionContext;
import bloom4j.nn.AttentionMask;
import bloom4j.nn.Embedding;
import bloom4j.nn.Graphs;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.Scope;
import bloom4j.nn.SeqShape;
import bloom4j.nn.Mlp;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The teacher-forced AR half of SongBloom's training {@code forward} (upstream {@code MVSA_DiTAR.forward}, songbloom_mvsa.py
 * L176-272) as one differentiable SameDiff graph, for fine-tuning (LoRA/DoRA on the LLaMA, or full). Per row:
 * <pre>
 *   [ prefix (prompt | lyrics) | BOS, e(s_0..s_{S-1}), A_0, e(s_S..s_{2S-1}), A_1, ..., A_{N-1} ]     A_n = block_conv(latent block n)
 * </pre>
 * with {@code e = skeleton_emb}, S the block size, T = N·S sketch tokens. {@link #logits()} is {@code skeleton_classifier} at the
 * T + 1 positions after the prefix that are not an "h" position ({@code (i+1) % (S+1) != 0}: the last sketch token of each block,
 * whose output conditions the DiT), in upstream's {@code ar_logit} order, rows {@code [B·(T+1), P+1]}; {@link #targets} gives the
 * matching {@code ar_target} (the ignore id is P + 1). {@link #h()} is the LM output at the h positions, {@code [B·N, D]}.
 *
 * <p>Weights and keys are those of {@link SongBloomAr} (same layers: {@link LlamaDecoder}, {@link Mlp} heads); the conditioners
 * run outside the graph as at inference, so the prefix is an input. Everything the {@link LoadOptions} make trainable trains:
 * {@code skeleton_emb} goes through a one-hot product when trainable ({@link Embedding}), BOS and {@code block_conv} are in the
 * graph. Shapes are fixed at build time (batch, prefix length, sketch length); attention is causal over the whole row, no cache.
 */
public final class SongBloomArTraining {
    private final SongBloomConfig config;
    private final int batch, prefixLen, sketchLen, blocks, length;
    private final SDVariable prefix;      // [B, Lp, D]
    private final SDVariable sketch;      // [B, T] int64
    private final SDVariable latents;     // [B·N, S·latent]
    private final SDVariable logits;      // [B·(T+1), P+1]
    private final SDVariable h;           // [B·N, D]
    private final SDVariable blockEmbeddings;   // [B·N, S, D]
    private final Map<String, INDArray> fixedFeed;
    private final Params params;

    private SongBloomArTraining(SongBloomConfig c, Scope root, int batch, int prefixLen, int sketchLen, SDVariable prefixIn) {
        if (batch < 1 || prefixLen < 0 || sketchLen < c.blockSize() || sketchLen % c.blockSize() != 0) {
            throw new IllegalArgumentException("batch >= 1, prefix >= 0 and a sketch length that is a positive multiple of the block size "
                    + c.blockSize() + " are needed, got batch " + batch + ", prefix " + prefixLen + ", sketch " + sketchLen);
        }
        this.config = c;
        this.batch = batch;
        this.prefixLen = prefixLen;
        this.sketchLen = sketchLen;
        int s = c.blockSize(), d = c.dim();
        this.blocks = sketchLen / s;
        this.length = prefixLen + blocks * (s + 1) + 1;
        SameDiff sd = root.sd();
        DataType dt = root.dtype();
        Scope m = root.pp("model");
        SketchVocabulary vocab = c.sketchVocabulary();
        int n = blocks, b = batch;

        if (prefixIn != null && prefixIn.getShape() != null && !Arrays.equals(prefixIn.getShape(), new long[] {b, prefixLen, d})) {
            throw new IllegalArgumentException("the prefix variable must be [" + b + ", " + prefixLen + ", " + d + "], got "
                    + Arrays.toString(prefixIn.getShape()));
        }
        prefix = prefixIn != null ? prefixIn : sd.placeHolder("prefix", dt, b, prefixLen, d);
        sketch = sd.placeHolder("x_sketch", DataType.INT64, b, sketchLen);
        latents = sd.placeHolder("x_latent_blocks", dt, (long) b * n, c.blockConvIn());

        SDVariable emb = Embedding.load(m.pp("skeleton_emb"), vocab.embeddingRows(), d).forwardRows(sketch).reshape(b, n, s, d);
        blockEmbeddings = emb.reshape((long) b * n, s, d);
        SDVariable acoustic = SongBloomAr.blockConv(m, c).forwardRows(latents).reshape(b, n, d);       // A_n
        SDVariable bos = m.param("bos_token", d).reshape(1, 1, d);
        SDVariable[] bosRows = new SDVariable[b];
        Arrays.fill(bosRows, bos);
        SDVariable first = b == 1 ? bos : sd.concat(0, bosRows);                                        // [B, 1, D]
        SDVariable heads = n == 1 ? first
                : sd.concat(1, first, acoustic.get(SDIndex.all(), SDIndex.interval(0, n - 1), SDIndex.all()));   // BOS, A_0..A_{N-2}
        SDVariable chunks = sd.concat(2, heads.reshape(b, n, 1, d), emb).reshape(b, n * (s + 1), d);
        SDVariable last = acoustic.get(SDIndex.all(), SDIndex.interval(n - 1, n), SDIndex.all());         // A_{N-1}
        SDVariable seq = prefixLen == 0 ? sd.concat(1, chunks, last) : sd.concat(1, prefix, chunks, last); // [B, L, D]

        LlamaConfig lc = c.llama();
        RotaryEmbedding rope = lc.rope();
        RotaryEmbedding.Tables tables = rope.placeholders(sd, "rope", dt);
        SDVariable mask = sd.constant("causal_mask", AttentionMask.causal(length, 0, dt));
        AttentionContext ctx = AttentionContext.of(SeqShape.fixed(sd, b, length), tables, mask);
        SDVariable hidden = LlamaDecoder.load(m.pp("ar_transformer"), lc).forwardRows(seq.reshape((long) b * length, d), ctx, null, null)
                .reshape(b, length, d);
        SDVariable body = hidden.get(SDIndex.all(), SDIndex.interval(prefixLen, prefixLen + n * (s + 1)), SDIndex.all())
                .reshape(b, n, s + 1, d);
        SDVariable predicting = sd.concat(1,
                body.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(0, s), SDIndex.all()).reshape(b, sketchLen, d),
                hidden.get(SDIndex.all(), SDIndex.interval(length - 1, length), SDIndex.all()));          // [B, T+1, D]
        logits = SongBloomAr.classifier(m, c).forwardRows(predicting.reshape((long) b * (sketchLen + 1), d))
                .rename(m.pp("skeleton_classifier").key("ar_logit"));
        h = body.get(SDIndex.all(), SDIndex.all(), SDIndex.point(s), SDIndex.all()).reshape((long) b * n, d).rename("h");
        fixedFeed = Map.copyOf(rope.feed(tables, 0, length));
        params = root.params();
    }

    /**
     * Builds the graph for {@code batch} rows of {@code prefixLen} condition positions and {@code sketchLen} sketch tokens (a multiple of
     * the block size) from {@code source} under {@code options} (adapters, trainability, dtype).
     */
    public static SongBloomArTraining build(SongBloomConfig c, ParamSource source, LoadOptions options, int batch, int prefixLen,
                                            int sketchLen) {
        return new SongBloomArTraining(c, Scope.root(Graphs.create(), source, options), batch, prefixLen, sketchLen, null);
    }

    /**
     * Builds the AR into an existing graph under {@code root} (whose {@code model.} scope holds the weights), over {@code prefix}
     * {@code [batch, prefixLen, D]} computed in that graph (null: a placeholder), so that a training objective can add the DiT and
     * conditioners around it.
     */
    public static SongBloomArTraining build(SongBloomConfig c, Scope root, int batch, int prefixLen, int sketchLen, SDVariable prefix) {
        return new SongBloomArTraining(c, root, batch, prefixLen, sketchLen, prefix);
    }

    public SongBloomConfig config() { return config; }

    public SameDiff sd() { return logits.getSameDiff(); }

    /** {@code ar_logit} rows {@code [B·(T+1), P+1]}. */
    public SDVariable logits() { return logits; }

    /** The LM output at each block's h position (the DiT's condition), rows {@code [B·N, D]}. */
    public SDVariable h() { return h; }

    /** {@code skeleton_emb} of every block's sketch tokens, {@code [B·N, S, D]} (the DiT's {@code s} before selection). */
    public SDVariable blockEmbeddings() { return blockEmbeddings; }

    /** Blocks per row, N = T / S. */
    public int blocks() { return blocks; }

    /** What was loaded, its trainable variables included. */
    public Params params() { return params; }

    public int batch() { return batch; }

    public int prefixLength() { return prefixLen; }

    public int sketchLength() { return sketchLen; }

    /** Positions the LLaMA sees per row: prefix + N·(S+1) + 1. */
    public int length() { return length; }

    /** Rows the LLaMA's linears see per call (B·L), for adapter dropout masks. */
    public long rows() { return (long) batch * length; }

    /** The class id that marks a target to ignore: P + 1 (upstream's "special" token). */
    public long ignoreId() { return config.numPitch() + 1L; }

    /**
     * The feed for one batch.
     *
     * @param prefix   conditions {@code [B, Lp, D]} ({@link SongBloomAr#prefix}; zeros are fine for synthetic data); null when the prefix
     *                 is computed in the graph
     * @param sketch   sketch tokens {@code [B][T]}, codes {@code 0..P-1}, EOS {@code P} as padding
     * @param latents  latent blocks {@code [B, N, S, latent]} or {@code [B, T, latent]} (frames × channels)
     */
    public Map<String, INDArray> feed(INDArray prefix, long[][] sketch, INDArray latents) {
        if (sketch.length != batch || Arrays.stream(sketch).anyMatch(r -> r.length != sketchLen)) {
            throw new IllegalArgumentException("x_sketch must be [" + batch + "][" + sketchLen + "]");
        }
        long[] flat = Arrays.stream(sketch).flatMapToLong(Arrays::stream).toArray();
        config.sketchVocabulary().requireTokens(flat, true);
        if (latents.length() != (long) batch * sketchLen * config.latentDim()) {
            throw new IllegalArgumentException("latents must hold [" + batch + ", " + sketchLen + ", " + config.latentDim() + "], got "
                    + Arrays.toString(latents.shape()));
        }
        Map<String, INDArray> f = new HashMap<>(fixedFeed);
        if (prefix != null) f.put(this.prefix.name(), prefix.castTo(this.prefix.dataType()).reshape(batch, prefixLen, config.dim()));
        f.put(this.sketch.name(), Nd4j.createFromArray(flat).reshape(batch, sketchLen));
        f.put(this.latents.name(), latents.castTo(this.latents.dataType()).dup('c').reshape((long) batch * blocks, config.blockConvIn()));
        return f;
    }

    /**
     * Upstream's {@code ar_target} rows for {@link #logits()}, {@code [B·(T+1)]}: {@code x_sketch} right-padded with EOS; positions
     * after {@code x_len} set to the ignore id {@link #ignoreId()} (so position {@code x_len} predicts EOS).
     */
    public long[] targets(long[][] sketch, long[] xLen) {
        int t = sketchLen;
        long[] out = new long[batch * (t + 1)];
        for (int i = 0; i < batch; i++) {
            for (int j = 0; j <= t; j++) out[i * (t + 1) + j] = j > xLen[i] ? ignoreId() : j < t ? sketch[i][j] : config.numPitch();
        }
        return out;
    }

    /** Outputs by name for a feed (eval; adapters' dropout placeholders, if any, must be in the feed). */
    public Map<String, INDArray> output(Map<String, INDArray> feed, String... names) { return sd().output(feed, names); }
}
