package bloom4j.train.songbloom;

import bloom4j.models.songbloom.LyricConditionGraph;
import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.SongBloomArTraining;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.TokenizedLyrics;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.models.songbloom.dit.LocalDit;
import bloom4j.nn.Graphs;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.Scope;
import bloom4j.train.CrossEntropy;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * SongBloom's training objective as one differentiable graph: upstream {@code MVSA_DiTAR.forward} in train mode
 * (tencent-ailab/SongBloom@ef78022, {@code SongBloom/models/songbloom/songbloom_mvsa.py} L176-271) and the loss of the fine-tuning
 * fork's {@code training_step} (ayutaz/SongBloom@8f7d34f {@code songbloom_pl.py} L138-142):
 * <pre>
 *   loss     = ar_loss + 0.1 · flow_loss
 *   ar_loss  = mean over non-ignored targets of CE(ar_logit, ar_target)          ignore id P + 1; target x_len is EOS, or ignored
 *                                                                                when the crop does not end the song
 *   flow_loss= mean over all elements of (DiT(x_t, t, h_n, s_n, x0_{n−1}) − (ε − x0_n))²     every valid block n of every row
 *   x_t = (1 − t)·x0 + t·ε,  t = sigmoid(z),  z ~ N(0,1),  ε ~ N(0, I);  h_n ← 0 and s_n ← 0 with probability p_h each (training)
 * </pre>
 * The DiT runs in the same graph over the AR's {@code h} and sketch embeddings, so the flow term's gradient reaches the AR adapters
 * through h (the DiT itself stays frozen unless its scope is trainable). The valid blocks are picked, and h and s dropped, by
 * one-hot selection matrices (gather has no usable gradient in SameDiff M2.1): row j of {@code h_select} is the one-hot of the
 * j-th valid block, or zero when its h is dropped; multiplying by zeros and ones is exact, so this is upstream's {@code masked_fill}.
 *
 * <p>The conditions are either computed in the graph (the lyric embedding from token ids, trainable rows possible; the prompt rows
 * as an input, the VAE being frozen) or given whole as the prefix {@code [B, prompt + lyrics, D]} (parity with recorded tensors).
 * Random draws are an argument ({@link Draws}), so that a step is a pure function of its inputs and a resumed run draws the same.
 */
public final class SongBloomObjective {
    /** Weight of the flow term (λ). */
    public static final double FLOW_WEIGHT = 0.1;

    /** Where the condition prefix comes from. */
    public enum Conditions { IN_GRAPH, GIVEN }

    private final SongBloomConfig config;
    private final DitConfig dit;
    private final SongBloomArTraining ar;
    private final LyricConditionGraph lyrics;        // null when GIVEN
    private final SDVariable prompt;                 // [B, Pp, D] placeholder when IN_GRAPH
    private final SDVariable hSelect, sSelect, xT, t, history, target;
    private final SDVariable prediction;             // [Nv, S, latent]
    private final SDVariable ditH;                   // [Nv, D]
    private final SDVariable ditS;                   // [Nv, S, D]
    private final CrossEntropy ce;
    private final SDVariable flowLoss, loss;
    private final Params params;

    private SongBloomObjective(SongBloomConfig c, DitConfig dc, Scope root, int batch, int sketchLen, Conditions conditions,
                               LyricVocabulary vocab) {
        this.config = c;
        this.dit = dc;
        SameDiff sd = root.sd();
        DataType dt = root.dtype();
        int d = c.dim(), s = c.blockSize(), lat = c.latentDim();
        SDVariable prefix = null;
        if (conditions == Conditions.IN_GRAPH) {
            prompt = sd.placeHolder("prompt_condition", dt, batch, c.promptMaxLen(), d);
            lyrics = LyricConditionGraph.build(root.pp(LyricConditioner.SCOPE), vocab, c.maxSentencePerStructure(), d, batch,
                    c.lyricsMaxLen());
            prefix = sd.concat(1, prompt, lyrics.output());
        } else {
            prompt = null;
            lyrics = null;
        }
        ar = SongBloomArTraining.build(c, root, batch, c.prefixLength(), sketchLen, prefix);
        long blocks = (long) batch * ar.blocks();
        hSelect = sd.placeHolder("flow.h_select", dt, -1, blocks);
        sSelect = sd.placeHolder("flow.s_select", dt, -1, blocks);
        xT = sd.placeHolder("flow.x_t", dt, -1, s, lat);
        t = sd.placeHolder("flow.t", dt, -1);
        history = sd.placeHolder("flow.history", dt, -1, s, lat);
        target = sd.placeHolder("flow.target", dt, -1, s, lat);
        SDVariable h = sd.mmul(hSelect, ar.h()).rename("flow.h");                                       // [Nv, D]
        ditH = h;
        SDVariable sEmb = sd.mmul(sSelect, ar.blockEmbeddings().reshape(blocks, (long) s * d)).reshape(-1, s, d).rename("flow.s");
        ditS = sEmb;
        LocalDit net = LocalDit.build(root.pp("model"), dc, new LocalDit.Inputs(xT, t, h, sEmb, history));
        prediction = net.output();
        ce = CrossEntropy.build(ar.logits(), c.sketchVocabulary().classes(), "ar_loss");
        SDVariable diff = prediction.sub(target);
        flowLoss = diff.mul(diff).mean().rename("flow_loss");
        loss = ce.loss().add(flowLoss.mul(FLOW_WEIGHT)).rename("loss");
        params = root.params();
    }

    /**
     * Builds the objective for {@code batch} rows of {@code sketchLen} frames (a multiple of the block size) over {@code source}
     * under {@code options} (adapters, trainability); {@code vocab} is the lyric vocabulary (used when the conditions are in the graph).
     */
    public static SongBloomObjective build(SongBloomConfig c, DitConfig dc, ParamSource source, LoadOptions options, int batch,
                                           int sketchLen, Conditions conditions, LyricVocabulary vocab) {
        return new SongBloomObjective(c, dc, Scope.root(Graphs.create(), source, options), batch, sketchLen, conditions, vocab);
    }

    public SongBloomConfig config() { return config; }

    public DitConfig ditConfig() { return dit; }

    public SongBloomArTraining ar() { return ar; }

    public SameDiff sd() { return loss.getSameDiff(); }

    public Params params() { return params; }

    /** The scalar to minimise, {@code ar_loss + 0.1·flow_loss}. */
    public SDVariable loss() { return loss; }

    public SDVariable arLoss() { return ce.loss(); }

    public SDVariable flowLoss() { return flowLoss; }

    /** DiT v prediction of every valid block {@code [Nv, S, latent]}. */
    public SDVariable prediction() { return prediction; }

    /** The selected (and dropped) h {@code [Nv, D]}, the DiT's input. */
    public SDVariable ditH() { return ditH; }

    /** The selected (and dropped) sketch embeddings {@code [Nv, S, D]}, the DiT's s. */
    public SDVariable ditS() { return ditS; }

    /** The lyric graph (null when the conditions are given). */
    public LyricConditionGraph lyricGraph() { return lyrics; }

    /** Rows the adapted LLaMA linears see per call, for adapter dropout masks. */
    public long rows() { return ar.rows(); }

    /**
     * One batch. {@code latents} are frames × channels {@code [B, T, latent]} (zeros after {@code xLen}); {@code sketch} EOS-padded
     * after {@code xLen} (multiples of the block size). Conditions: {@code promptCondition [B, Pp, D]} and {@code lyrics} when built
     * {@link Conditions#IN_GRAPH}, else {@code prefix [B, Pp + Pl, D]}. {@code endsAtSongEnd[i]} false (a crop) ignores the EOS target.
     */
    public record Batch(INDArray promptCondition, List<TokenizedLyrics> lyrics, INDArray prefix, long[][] sketch, long[] xLen,
                        boolean[] endsAtSongEnd, INDArray latents) {
        public int size() { return sketch.length; }

        /** Valid blocks of all rows, Σ xLen / S. */
        public int validBlocks(int blockSize) {
            int n = 0;
            for (long l : xLen) n += Math.toIntExact(l / blockSize);
            return n;
        }
    }

    /**
     * The random draws of one forward, in upstream's order: {@code hUniform} and {@code sUniform} (one per valid block; the block's
     * h, resp. sketch embeddings, are dropped where the draw is below p_h; null in eval), {@code z} (t = sigmoid(z)) and the flow
     * noise {@code eps} ({@code [Nv·S·latent]}, C order).
     */
    public record Draws(float[] hUniform, float[] sUniform, float[] z, float[] eps) {
        /** Draws for {@code blocks} valid blocks from {@code rng}; {@code training} false leaves out the dropout draws. */
        public static Draws sample(SplittableRandom rng, int blocks, int blockSize, int latentDim, boolean training) {
            float[] hu = null, su = null;
            if (training) {
                hu = new float[blocks];
                su = new float[blocks];
                for (int i = 0; i < blocks; i++) hu[i] = (float) rng.nextDouble();
                for (int i = 0; i < blocks; i++) su[i] = (float) rng.nextDouble();
            }
            float[] z = new float[blocks];
            for (int i = 0; i < blocks; i++) z[i] = (float) rng.nextGaussian();
            float[] eps = new float[blocks * blockSize * latentDim];
            for (int i = 0; i < eps.length; i++) eps[i] = (float) rng.nextGaussian();
            return new Draws(hu, su, z, eps);
        }
    }

    /** The targets of {@code ar_logit}: {@link SongBloomArTraining#targets}, with the EOS target ignored for rows that are crops. */
    public long[] targets(Batch b) {
        long[] y = ar.targets(b.sketch(), b.xLen());
        int t1 = ar.sketchLength() + 1;
        for (int i = 0; i < b.size(); i++) {
            if (b.endsAtSongEnd() != null && !b.endsAtSongEnd()[i]) y[i * t1 + Math.toIntExact(b.xLen()[i])] = ar.ignoreId();
        }
        return y;
    }

    /** What the flow half was fed, for parity and inspection: t, x_t, target (C order). */
    public record FlowInputs(float[] t, float[] xT, float[] target, float[] history) { }

    /** The flow inputs of {@code b} under {@code draws} (x_t, target and t computed in float32 as upstream does). */
    public FlowInputs flowInputs(Batch b, Draws draws) {
        int s = config.blockSize(), lat = config.latentDim(), blockLen = s * lat;
        int nv = b.validBlocks(s);
        if (draws.z().length != nv || draws.eps().length != nv * blockLen) {
            throw new IllegalArgumentException("draws for " + draws.z().length + " blocks, the batch has " + nv + " valid blocks");
        }
        float[] lat3 = b.latents().castTo(DataType.FLOAT).dup('c').reshape(-1).toFloatVector();   // [B, T, latent]
        int t = ar.sketchLength();
        float[] tt = new float[nv], xt = new float[nv * blockLen], v = new float[nv * blockLen], hist = new float[nv * blockLen];
        int j = 0;
        for (int row = 0; row < b.size(); row++) {
            int n = Math.toIntExact(b.xLen()[row] / s);
            for (int blk = 0; blk < n; blk++, j++) {
                float z = draws.z()[j];
                float tj = (float) (1.0 / (1.0 + Math.exp(-z)));
                float alpha = 1f - tj;
                tt[j] = tj;
                int src = (row * t + blk * s) * lat, dst = j * blockLen;
                for (int k = 0; k < blockLen; k++) {
                    float x0 = lat3[src + k], e = draws.eps()[dst + k];
                    xt[dst + k] = x0 * alpha + e * tj;
                    v[dst + k] = e - x0;
                    hist[dst + k] = blk == 0 ? 0f : lat3[src - blockLen + k];
                }
            }
        }
        return new FlowInputs(tt, xt, v, hist);
    }

    /**
     * The feed of one batch under {@code draws} with dropout probability {@code hDropout} (ignored in eval draws), the CE weighted
     * by this batch's own valid targets (a micro-batch is a mean of its own, as Lightning's accumulation has it).
     */
    public Map<String, INDArray> feed(Batch b, Draws draws, double hDropout) {
        if (b.size() != ar.batch()) throw new IllegalArgumentException("the graph takes batches of " + ar.batch() + ", got " + b.size());
        int s = config.blockSize(), lat = config.latentDim();
        Map<String, INDArray> f = new HashMap<>(ar.feed(lyrics == null ? b.prefix() : null, b.sketch(), b.latents()));
        if (lyrics != null) {
            f.put(prompt.name(), b.promptCondition().castTo(prompt.dataType()).reshape(prompt.getShape()));
            f.putAll(lyrics.feed(b.lyrics()));
        }
        long[] y = targets(b);
        f.putAll(ce.feed(y, ar.ignoreId(), CrossEntropy.countValid(y, ar.ignoreId())));
        FlowInputs in = flowInputs(b, draws);
        int nv = in.t().length;
        long blocks = (long) b.size() * ar.blocks();
        float[] hs = new float[Math.toIntExact(nv * blocks)], ss = new float[hs.length];
        int j = 0;
        for (int row = 0; row < b.size(); row++) {
            int n = Math.toIntExact(b.xLen()[row] / s);
            for (int blk = 0; blk < n; blk++, j++) {
                int col = row * ar.blocks() + blk;
                boolean dropH = draws.hUniform() != null && draws.hUniform()[j] < hDropout;
                boolean dropS = draws.sUniform() != null && draws.sUniform()[j] < hDropout;
                hs[Math.toIntExact(j * blocks + col)] = dropH ? 0f : 1f;
                ss[Math.toIntExact(j * blocks + col)] = dropS ? 0f : 1f;
            }
        }
        DataType dt = xT.dataType();
        f.put(hSelect.name(), Nd4j.create(hs, new long[] {nv, blocks}, 'c').castTo(dt));
        f.put(sSelect.name(), Nd4j.create(ss, new long[] {nv, blocks}, 'c').castTo(dt));
        f.put(xT.name(), Nd4j.create(in.xT(), new long[] {nv, s, lat}, 'c').castTo(dt));
        f.put(t.name(), Nd4j.create(in.t(), new long[] {nv}, 'c').castTo(dt));
        f.put(history.name(), Nd4j.create(in.history(), new long[] {nv, s, lat}, 'c').castTo(dt));
        f.put(target.name(), Nd4j.create(in.target(), new long[] {nv, s, lat}, 'c').castTo(dt));
        return f;
    }

    /** Checks a batch's shapes against the graph, naming what differs. */
    public void check(Batch b) {
        if (b.size() != ar.batch()) throw new IllegalArgumentException("batch of " + b.size() + " rows, the graph takes " + ar.batch());
        for (int i = 0; i < b.size(); i++) {
            long l = b.xLen()[i];
            if (l <= 0 || l % config.blockSize() != 0 || l > ar.sketchLength()) {
                throw new IllegalArgumentException("row " + i + ": x_len " + l + " must be a positive multiple of the block size "
                        + config.blockSize() + " and at most " + ar.sketchLength());
            }
        }
        if (!Arrays.equals(b.latents().shape(), new long[] {b.size(), ar.sketchLength(), config.latentDim()})) {
            throw new IllegalArgumentException("latents must be [" + b.size() + ", " + ar.sketchLength() + ", " + config.latentDim()
                    + "] (frames × channels), got " + Arrays.toString(b.latents().shape()));
        }
    }

    /** Output names a step reports besides the loss: the two terms. */
    public List<String> reported() { return new ArrayList<>(List.of(ce.loss().name(), flowLoss.name())); }
}
