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
        requireShape(c, batch, prefixLen, sketchLen);
        this.config = c;
        this.batch = batch;
        this.prefixLen = prefixLen;
        this.sketchLen = sketchLen;
        this.blocks = sketchLen / c.blockSize();
        this.length = positions(c, prefixLen, sketchLen);
        SameDiff sd = root.sd();
        DataType dt = root.dtype();
        int d = c.dim();
        Front f = front(c, root, batch, prefixLen, sketchLen, prefixIn);
        prefix = f.prefix();
        sketch = f.sketch();
        latents = f.latents();
        blockEmbeddings = f.blockEmbeddings();
        LlamaConfig lc = c.llama();
        RotaryEmbedding rope = lc.rope();
        RotaryEmbedding.Tables tables = rope.placeholders(sd, "rope", dt);
        SDVariable mask = sd.constant("causal_mask", AttentionMask.causal(length, 0, dt));
        AttentionContext ctx = AttentionContext.of(SeqShape.fixed(sd, batch, length), tables, mask);
        SDVariable hidden = LlamaDecoder.load(root.pp("model").pp("ar_transformer"), lc)
                .forwardRows(f.sequence().reshape((long) batch * length, d), ctx, null, null).reshape(batch, length, d);
        Head hd = head(c, root, hidden, batch, prefixLen, sketchLen);
        logits = hd.logits();
        h = hd.h();
        fixedFeed = Map.copyOf(rope.feed(tables, 0, length));
        params = root.params();
    }

    private static void requireShape(SongBloomConfig c, int batch, int prefixLen, int sketchLen) {
        if (batch < 1 || prefixLen < 0 || sketchLen < c.blockSize() || sketchLen % c.blockSize() != 0) {
            throw new IllegalArgumentException("batch >= 1, prefix >= 0 and a sketch length that is a positive multiple of the block size "
                    + c.blockSize() + " are needed, got batch " + batch + ", prefix " + prefixLen + ", sketch " + sketchLen);
        }
    }

    /** Positions the LLaMA sees per row: prefix + N·(S+1) + 1. */
    public static int positions(SongBloomConfig c, int prefixLen, int sketchLen) {
        return prefixLen + sketchLen / c.blockSize() * (c.blockSize() + 1) + 1;
    }

    /**
     * The AR's input side: placeholders {@code x_sketch [B, T]} (int64) and {@code x_latent_blocks [B·N, S·latent]}, the prefix (the
     * given variable, or a placeholder {@code prefix [B, Lp, D]}), and the LLaMA's input {@code sequence [B, L, D]}; also the sketch
     * embeddings of every block {@code [B·N, S, D]}.
     */
    public record Front(SDVariable prefix, SDVariable sketch, SDVariable latents, SDVariable sequence, SDVariable blockEmbeddings) { }

    /** Builds the {@link Front} under {@code root} (whose {@code model.} scope holds the weights). */
    public static Front front(SongBloomConfig c, Scope root, int b, int prefixLen, int sketchLen, SDVariable prefixIn) {
        requireShape(c, b, prefixLen, sketchLen);
        SameDiff sd = root.sd();
        DataType dt = root.dtype();
        Scope m = root.pp("model");
        int s = c.blockSize(), d = c.dim(), n = sketchLen / s;
        if (prefixIn != null && prefixIn.getShape() != null && !Arrays.equals(prefixIn.getShape(), new long[] {b, prefixLen, d})) {
            throw new IllegalArgumentException("the prefix variable must be [" + b + ", " + prefixLen + ", " + d + "], got "
                    + Arrays.toString(prefixIn.getShape()));
        }
        SDVariable prefix = prefixIn != null ? prefixIn : sd.placeHolder("prefix", dt, b, prefixLen, d);
        SDVariable sketch = sd.placeHolder("x_sketch", DataType.INT64, b, sketchLen);
        SDVariable latents = sd.placeHolder("x_latent_blocks", dt, (long) b * n, c.blockConvIn());
        SDVariable emb = Embedding.load(m.pp("skeleton_emb"), c.sketchVocabulary().embeddingRows(), d).forwardRows(sketch).reshape(b, n, s, d);
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
        return new Front(prefix, sketch, latents, seq, emb.reshape((long) b * n, s, d));
    }

    /** The AR's output side: {@code ar_logit} rows {@code [B·(T+1), P+1]} and the h rows {@code [B·N, D]}. */
    public record Head(SDVariable logits, SDVariable h) { }

    /** Builds the {@link Head} over the LLaMA's {@code last_hidden_state [B, L, D]} (after the final norm). */
    public static Head head(SongBloomConfig c, Scope root, SDVariable hidden, int b, int prefixLen, int sketchLen) {
        SameDiff sd = root.sd();
        Scope m = root.pp("model");
        int s = c.blockSize(), d = c.dim(), n = sketchLen / s, length = positions(c, prefixLen, sketchLen);
        SDVariable body = hidden.get(SDIndex.all(), SDIndex.interval(prefixLen, prefixLen + n * (s + 1)), SDIndex.all())
                .reshape(b, n, s + 1, d);
        SDVariable predicting = sd.concat(1,
                body.get(SDIndex.all(), SDIndex.all(), SDIndex.interval(0, s), SDIndex.all()).reshape(b, sketchLen, d),
                hidden.get(SDIndex.all(), SDIndex.interval(length - 1, length), SDIndex.all()));          // [B, T+1, D]
        SDVariable logits = SongBloomAr.classifier(m, c).forwardRows(predicting.reshape((long) b * (sketchLen + 1), d))
                .rename(m.pp("skeleton_classifier").key("ar_logit"));
        SDVariable h = body.get(SDIndex.all(), SDIndex.all(), SDIndex.point(s), SDIndex.all()).reshape((long) b * n, d).rename("h");
        return new Head(logits, h);
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
        Map<String, INDArray> f = new HashMap<>(fixedFeed);
        f.putAll(frontFeed(config, batch, sketchLen, prefixLen, prefix, sketch, latents, this.latents.dataType()));
        return f;
    }

    /**
     * The placeholders of a {@link Front} ({@code prefix} when non-null, {@code x_sketch}, {@code x_latent_blocks}), checked: sketch
     * {@code [B][T]} with codes and EOS only, latents {@code [B, T, latent]} (frames × channels) or {@code [B, N, S, latent]}.
     */
    public static Map<String, INDArray> frontFeed(SongBloomConfig c, int batch, int sketchLen, int prefixLen, INDArray prefix,
                                                  long[][] sketch, INDArray latents, DataType dt) {
        if (sketch.length != batch || Arrays.stream(sketch).anyMatch(r -> r.length != sketchLen)) {
            throw new IllegalArgumentException("x_sketch must be [" + batch + "][" + sketchLen + "]");
        }
        long[] flat = Arrays.stream(sketch).flatMapToLong(Arrays::stream).toArray();
        c.sketchVocabulary().requireTokens(flat, true);
        if (latents.length() != (long) batch * sketchLen * c.latentDim()) {
            throw new IllegalArgumentException("latents must hold [" + batch + ", " + sketchLen + ", " + c.latentDim() + "], got "
                    + Arrays.toString(latents.shape()));
        }
        Map<String, INDArray> f = new HashMap<>();
        if (prefix != null) f.put("prefix", prefix.castTo(dt).reshape(batch, prefixLen, c.dim()));
        f.put("x_sketch", Nd4j.createFromArray(flat).reshape(batch, sketchLen));
        f.put("x_latent_blocks", latents.castTo(dt).dup('c').reshape((long) batch * (sketchLen / c.blockSize()), c.blockConvIn()));
        return f;
    }

    /**
     * Upstream's {@code ar_target} rows for {@link #logits()}, {@code [B·(T+1)]}: {@code x_sketch} right-padded with EOS; positions
     * after {@code x_len} set to the ignore id {@link #ignoreId()} (so position {@code x_len} predicts EOS).
     */
    public long[] targets(long[][] sketch, long[] xLen) { return targets(config, sketchLen, sketch, xLen); }

    /** {@link #targets(long[][], long[])} for any batch of {@code sketchLen} tokens. */
    public static long[] targets(SongBloomConfig c, int sketchLen, long[][] sketch, long[] xLen) {
        int t = sketchLen;
        long ignore = c.numPitch() + 1L;
        long[] out = new long[sketch.length * (t + 1)];
        for (int i = 0; i < sketch.length; i++) {
            for (int j = 0; j <= t; j++) out[i * (t + 1) + j] = j > xLen[i] ? ignore : j < t ? sketch[i][j] : c.numPitch();
        }
        return out;
    }

    /** Outputs by name for a feed (eval; adapters' dropout placeholders, if any, must be in the feed). */
    public Map<String, INDArray> output(Map<String, INDArray> feed, String... names) { return sd().output(feed, names); }
}
