package bloom4j.train.songbloom;

import bloom4j.models.songbloom.LyricConditionGraph;
import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.SongBloomArTraining;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.TokenizedLyrics;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.models.songbloom.dit.LocalDit;
import bloom4j.models.llama.LlamaConfig;
import bloom4j.models.llama.LlamaDecoder;
import bloom4j.nn.AttentionContext;
import bloom4j.nn.AttentionMask;
import bloom4j.nn.Graphs;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.SeqShape;
import bloom4j.nn.TrainableReport;
import bloom4j.train.Differentiable;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.Scope;
import bloom4j.train.CrossEntropy;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *
 * <p><b>Layout.</b> {@link Layout#ONE_GRAPH} builds everything in one SameDiff graph, which keeps every activation of every layer
 * for the backward pass: at the released size (36 × 1536) a 10 s crop already needs more than 22 GB. {@link Layout#PER_LAYER} builds
 * the input side (conditions, embeddings, BOS, {@code block_conv}), each LLaMA layer and the output side (final norm, classifier,
 * DiT, losses) as graphs of their own and runs the backward pass layer by layer: the forward pass keeps only each layer's input
 * rows, and the backward pass recomputes one layer at a time (gradient checkpointing per layer, as {@code torch.utils.checkpoint}
 * would), seeding it with the gradient of the layer above ({@code loss_i = Σ y_i ⊙ g_{i+1}}). The ops are the same, so the two
 * layouts agree to float rounding (tested); only one layer's activations are alive at a time.
 */
public final class SongBloomObjective implements Differentiable {
    /** Weight of the flow term (λ). */
    public static final double FLOW_WEIGHT = 0.1;

    /** Where the condition prefix comes from. */
    public enum Conditions { IN_GRAPH, GIVEN }

    /** One graph, or one graph per LLaMA layer with recomputation in the backward pass (see the class comment). */
    public enum Layout { ONE_GRAPH, PER_LAYER }

    private final SongBloomConfig config;
    private final DitConfig dit;
    private final Layout layout;
    private final int batch, sketchLen, blocks, length;
    private final LyricConditionGraph lyrics;        // null when GIVEN
    private final SDVariable prompt;                 // [B, Pp, D] placeholder when IN_GRAPH
    private final SDVariable hSelect, sSelect, xT, t, history, target;
    private final SDVariable logits;                 // [B·(T+1), P+1]
    private final SDVariable prediction;             // [Nv, S, latent]
    private final SDVariable ditH;                   // [Nv, D]
    private final SDVariable ditS;                   // [Nv, S, D]
    private final CrossEntropy ce;
    private final SDVariable flowLoss, loss;
    private final Map<String, INDArray> fixedFeed = new HashMap<>();
    private final List<Params> allParams = new ArrayList<>();
    private final Map<String, INDArray> trainable = new LinkedHashMap<>();
    // PER_LAYER: the input side, the layers, the output side
    private final Segment front;
    private final List<Segment> layers = new ArrayList<>();
    private final Segment headSeg;
    private final SDVariable frontSeq, frontEmb;     // outputs of the input side
    private final SDVariable headIn, headEmb;        // inputs of the output side
    private final SDVariable ditSeqOut;              // PER_LAYER: the DiT's input rows, computed by the output side
    private final Segment ditBack;
    private final Differentiable oneGraph;           // ONE_GRAPH: the graph's own gradients
    private final Set<String> onePlaceholders;
    private final List<Segment> ditLayers = new ArrayList<>();

    /** One graph of the PER_LAYER layout: input and output rows, the gradient placeholder(s) of its seeding loss. */
    private record Segment(SameDiff sd, Params params, SDVariable in, SDVariable out, SDVariable gradOut, List<String> trainable,
                           Set<String> placeholders) { }

    private SongBloomObjective(SongBloomConfig c, DitConfig dc, ParamSource source, LoadOptions options, int batch, int sketchLen,
                               Conditions conditions, LyricVocabulary vocab, Layout layout) {
        this.config = c;
        this.dit = dc;
        this.layout = layout;
        this.batch = batch;
        this.sketchLen = sketchLen;
        this.blocks = sketchLen / c.blockSize();
        int pl = c.prefixLength();
        this.length = SongBloomArTraining.positions(c, pl, sketchLen);
        int d = c.dim(), s = c.blockSize();
        LlamaConfig lc = c.llama();
        RotaryEmbedding rope = lc.rope();

        // The input side.
        Scope root = Scope.root(Graphs.create(), source, options);
        SameDiff sd = root.sd();
        DataType dt = root.dtype();
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
        SongBloomArTraining.Front f = SongBloomArTraining.front(c, root, batch, pl, sketchLen, prefix);
        SDVariable seqRows = f.sequence().reshape((long) batch * length, d);
        INDArray mask = AttentionMask.causal(length, 0, dt);
        SDVariable hiddenRows, emb;
        Scope headRoot;
        if (layout == Layout.ONE_GRAPH) {
            RotaryEmbedding.Tables tables = rope.placeholders(sd, "rope", dt);
            AttentionContext ctx = AttentionContext.of(SeqShape.fixed(sd, batch, length), tables, sd.constant("causal_mask", mask));
            fixedFeed.putAll(rope.feed(tables, 0, length));
            hiddenRows = seqRows;
            for (int i = 0; i < lc.numHiddenLayers(); i++) {
                hiddenRows = LlamaDecoder.layer(root.pp("model").pp("ar_transformer"), lc, i).forward(hiddenRows, ctx, null);
            }
            emb = f.blockEmbeddings();
            headRoot = root;
            front = null;
            frontSeq = frontEmb = headIn = headEmb = null;
            allParams.add(root.params());
        } else {
            frontSeq = seqRows;
            frontEmb = f.blockEmbeddings();
            SDVariable gSeq = sd.placeHolder("grad.sequence", dt, (long) batch * length, d);
            SDVariable gEmb = sd.placeHolder("grad.block_embeddings", dt, (long) batch * blocks, s, d);
            SDVariable seed = frontSeq.mul(gSeq).sum().add(frontEmb.mul(gEmb).sum()).rename("seed_loss");
            front = segment(root.params(), null, frontSeq, null, seed);
            allParams.add(root.params());
            fixedFeed.put("causal_mask", mask);
            for (int i = 0; i < lc.numHiddenLayers(); i++) {
                Scope r = Scope.root(Graphs.create(), source, options);
                SameDiff ls = r.sd();
                SDVariable x = ls.placeHolder("layer.in", dt, (long) batch * length, d);
                RotaryEmbedding.Tables tables = rope.placeholders(ls, "rope", dt);
                AttentionContext ctx = AttentionContext.of(SeqShape.fixed(ls, batch, length), tables,
                        ls.placeHolder("causal_mask", dt, length, length));
                if (i == 0) fixedFeed.putAll(rope.feed(tables, 0, length));
                SDVariable y = LlamaDecoder.layer(r.pp("model").pp("ar_transformer"), lc, i).forward(x, ctx, null);
                SDVariable g = ls.placeHolder("layer.grad", dt, (long) batch * length, d);
                layers.add(segment(r.params(), x, y, g, y.mul(g).sum().rename("seed_loss"), x.name()));
                allParams.add(r.params());
            }
            headRoot = Scope.root(Graphs.create(), source, options);
            SameDiff hs = headRoot.sd();
            headIn = hs.placeHolder("head.in", dt, (long) batch * length, d);
            headEmb = hs.placeHolder("head.block_embeddings", dt, (long) batch * blocks, s, d);
            hiddenRows = headIn;
            emb = headEmb;
        }

        // The output side: final norm, classifier and h, the DiT over the selected blocks, the losses.
        SameDiff hsd = headRoot.sd();
        SDVariable hidden = LlamaDecoder.finalNorm(headRoot.pp("model").pp("ar_transformer"), lc).forwardRows(hiddenRows)
                .reshape(batch, length, d);
        SongBloomArTraining.Head head = SongBloomArTraining.head(c, headRoot, hidden, batch, pl, sketchLen);
        logits = head.logits();
        long all = (long) batch * blocks;
        hSelect = hsd.placeHolder("flow.h_select", dt, -1, all);
        sSelect = hsd.placeHolder("flow.s_select", dt, -1, all);
        xT = hsd.placeHolder("flow.x_t", dt, -1, s, c.latentDim());
        t = hsd.placeHolder("flow.t", dt, -1);
        history = hsd.placeHolder("flow.history", dt, -1, s, c.latentDim());
        target = hsd.placeHolder("flow.target", dt, -1, s, c.latentDim());
        ditH = hsd.mmul(hSelect, head.h()).rename("flow.h");                                             // [Nv, D]
        ditS = hsd.mmul(sSelect, emb.reshape(all, (long) s * d)).reshape(-1, s, d).rename("flow.s");
        ce = CrossEntropy.build(logits, c.sketchVocabulary().classes(), "ar_loss");
        LocalDit.Inputs ditIn = new LocalDit.Inputs(xT, t, ditH, ditS, history);
        if (layout == Layout.ONE_GRAPH) {
            prediction = LocalDit.build(headRoot.pp("model"), dc, ditIn).output().rename("flow.prediction");
            SDVariable diff = prediction.sub(target);
            flowLoss = diff.mul(diff).mean().rename("flow_loss");
            loss = ce.loss().add(flowLoss.mul(FLOW_WEIGHT)).rename("loss");
            headSeg = null;
            ditBack = null;
            ditSeqOut = null;
            oneGraph = Differentiable.of(headRoot.params(), loss);
            onePlaceholders = placeholders(hsd);
        } else {
            // The DiT as graphs too: its input sequence here, each layer, then project_out and the flow loss.
            int ls = dc.sequenceLength();
            ditSeqOut = LocalDit.front(headRoot.pp("model"), dc, ditIn).sequence().reshape(-1, d).rename("dit.sequence");
            SDVariable gDit = hsd.placeHolder("grad.dit_sequence", dt, -1, d);
            SDVariable headLoss = ce.loss().add(ditSeqOut.mul(gDit).sum()).rename("seed_loss");
            oneGraph = null;
            onePlaceholders = null;
            headSeg = segment(headRoot.params(), headIn, ditSeqOut, gDit, headLoss, headIn.name(), headEmb.name());
            allParams.add(headRoot.params());
            for (int i = 0; i < dc.depth(); i++) {
                Scope r = Scope.root(Graphs.create(), source, options);
                SameDiff ls2 = r.sd();
                SDVariable x = ls2.placeHolder("dit.in", dt, -1, d);
                AttentionContext ctx = LocalDit.context(r.pp("model"), dc, x.reshape(-1, ls, d));
                SDVariable y = LocalDit.layer(r.pp("model"), dc, i).forward(x, ctx, null);
                SDVariable g = ls2.placeHolder("dit.grad", dt, -1, d);
                ditLayers.add(segment(r.params(), x, y, g, y.mul(g).sum().rename("seed_loss"), x.name()));
                allParams.add(r.params());
            }
            Scope back = Scope.root(Graphs.create(), source, options);
            SameDiff bs = back.sd();
            SDVariable x = bs.placeHolder("dit.in", dt, -1, d);
            SDVariable tgt = bs.placeHolder("flow.target", dt, -1, s, c.latentDim());
            prediction = LocalDit.back(back.pp("model"), dc, x.reshape(-1, ls, d)).rename("flow.prediction");
            SDVariable diff = prediction.sub(tgt);
            flowLoss = diff.mul(diff).mean().rename("flow_loss");
            loss = flowLoss.mul(FLOW_WEIGHT).rename("loss");                 // the back graph's share; the total is summed in Java
            ditBack = segment(back.params(), x, null, null, loss, x.name());
            allParams.add(back.params());
        }
        for (Params p : allParams) for (SDVariable v : p.trainable()) trainable.put(v.name(), v.getArr());
    }

    private static Segment segment(Params p, SDVariable in, SDVariable out, SDVariable gradOut, SDVariable seedLoss, String... inputs) {
        SameDiff sd = p.sd();
        List<String> names = new ArrayList<>();
        for (SDVariable v : p.trainable()) names.add(v.name());
        sd.setLossVariables(seedLoss.name());
        if (!names.isEmpty() || inputs.length > 0) Differentiable.quietly(() -> sd.createGradFunction(inputs));
        return new Segment(sd, p, in, out, gradOut, names, placeholders(sd));
    }

    /**
     * Builds the objective for {@code batch} rows of {@code sketchLen} frames (a multiple of the block size) over {@code source}
     * under {@code options} (adapters, trainability), in one graph; {@code vocab} is the lyric vocabulary (used when the conditions
     * are in the graph).
     */
    public static SongBloomObjective build(SongBloomConfig c, DitConfig dc, ParamSource source, LoadOptions options, int batch,
                                           int sketchLen, Conditions conditions, LyricVocabulary vocab) {
        return build(c, dc, source, options, batch, sketchLen, conditions, vocab, Layout.ONE_GRAPH);
    }

    /** {@link #build(SongBloomConfig, DitConfig, ParamSource, LoadOptions, int, int, Conditions, LyricVocabulary)} in {@code layout}. */
    public static SongBloomObjective build(SongBloomConfig c, DitConfig dc, ParamSource source, LoadOptions options, int batch,
                                           int sketchLen, Conditions conditions, LyricVocabulary vocab, Layout layout) {
        return new SongBloomObjective(c, dc, source, options, batch, sketchLen, conditions, vocab, layout);
    }

    public SongBloomConfig config() { return config; }

    public DitConfig ditConfig() { return dit; }

    public Layout layout() { return layout; }

    /** The graph of the output side (ONE_GRAPH: the only one), where the loss, logits and DiT live. */
    public SameDiff sd() { return loss.getSameDiff(); }

    /** The scalar to minimise, {@code ar_loss + 0.1·flow_loss}. */
    public SDVariable loss() { return loss; }

    public SDVariable arLoss() { return ce.loss(); }

    public SDVariable flowLoss() { return flowLoss; }

    /** {@code ar_logit} rows {@code [B·(T+1), P+1]}. */
    public SDVariable logits() { return logits; }

    /** DiT v prediction of every valid block {@code [Nv, S, latent]}. */
    public SDVariable prediction() { return prediction; }

    /** The selected (and dropped) h {@code [Nv, D]}, the DiT's input. */
    public SDVariable ditH() { return ditH; }

    /** The selected (and dropped) sketch embeddings {@code [Nv, S, D]}, the DiT's s. */
    public SDVariable ditS() { return ditS; }

    /** The lyric graph (null when the conditions are given). */
    public LyricConditionGraph lyricGraph() { return lyrics; }

    public int batch() { return batch; }

    public int sketchLength() { return sketchLen; }

    /** Positions the LLaMA sees per row. */
    public int length() { return length; }

    /** The class id of ignored targets, P + 1. */
    public long ignoreId() { return config.numPitch() + 1L; }

    /** Rows the adapted LLaMA linears see per call, for adapter dropout masks. */
    public long rows() { return (long) batch * length; }

    /** The parameters of every graph built (for load reports). */
    public List<Params> params() { return List.copyOf(allParams); }

    // ---------------------------------------------------------------------------------------------------------------------------
    // Running: outputs, and loss + gradients (Differentiable)

    /** The named outputs (of the output side or, PER_LAYER, of the DiT's last graph) for a feed (eval: no gradients). */
    public Map<String, INDArray> output(Map<String, INDArray> feed, String... names) {
        if (layout == Layout.ONE_GRAPH) return sd().output(only(onePlaceholders, feed), names);
        Forward fw = forwardAll(feed, false);
        Map<String, INDArray> out = new HashMap<>();
        List<String> inHead = new ArrayList<>(), inBack = new ArrayList<>();
        for (String n : names) (n.equals(prediction.name()) || n.equals(flowLoss.name()) ? inBack : inHead).add(n);
        if (!inHead.isEmpty()) {
            Map<String, INDArray> hf = headFeed(feed, fw);
            out.putAll(detached(headSeg.sd().output(hf, inHead.toArray(new String[0]))));
            Graphs.releaseWorkingMemory(headSeg.sd());
        }
        if (!inBack.isEmpty()) {
            Map<String, INDArray> bf = new HashMap<>(only(ditBack, feed));
            bf.put(ditBack.in().name(), fw.ditOut());
            out.putAll(detached(ditBack.sd().output(bf, inBack.toArray(new String[0]))));
            Graphs.releaseWorkingMemory(ditBack.sd());
        }
        fw.close();
        return out;
    }

    /** PER_LAYER forward values: the AR layers' and DiT layers' inputs (kept for recomputation), the ends of both stacks. */
    private record Forward(List<INDArray> arInputs, INDArray arOut, INDArray blockEmb, List<INDArray> ditInputs, INDArray ditOut) {
        void close() {
            arInputs.forEach(INDArray::close);
            ditInputs.forEach(INDArray::close);
            arOut.close();
            blockEmb.close();
            ditOut.close();
        }
    }

    private Map<String, INDArray> headFeed(Map<String, INDArray> feed, Forward fw) {
        Map<String, INDArray> hf = new HashMap<>(only(headSeg, feed));
        hf.put(headIn.name(), fw.arOut());
        hf.put(headEmb.name(), fw.blockEmb());
        return hf;
    }

    private Forward forwardAll(Map<String, INDArray> feed, boolean keep) {
        Map<String, INDArray> fo = detached(front.sd().output(only(front, feed), frontSeq.name(), frontEmb.name()));
        Graphs.releaseWorkingMemory(front.sd());
        List<INDArray> arIn = new ArrayList<>(), ditIn = new ArrayList<>();
        INDArray x = run(layers, fo.get(frontSeq.name()), feed, keep ? arIn : null);
        Forward partial = new Forward(arIn, x, fo.get(frontEmb.name()), ditIn, null);
        Map<String, INDArray> hf = headFeed(feed, partial);
        INDArray seq = headSeg.sd().output(hf, ditSeqOut.name()).get(ditSeqOut.name()).dup();
        Graphs.releaseWorkingMemory(headSeg.sd());
        INDArray y = run(ditLayers, seq, feed, keep ? ditIn : null);
        return new Forward(arIn, x, fo.get(frontEmb.name()), ditIn, y);
    }

    /** Rows through a stack of layer graphs; each layer's input is kept in {@code inputs} (else closed once used). */
    private static INDArray run(List<Segment> stack, INDArray x, Map<String, INDArray> feed, List<INDArray> inputs) {
        for (Segment l : stack) {
            Map<String, INDArray> lf = new HashMap<>(only(l, feed));
            lf.put(l.in().name(), x);
            INDArray y = l.sd().output(lf, l.out().name()).get(l.out().name()).dup();
            Graphs.releaseWorkingMemory(l.sd());
            if (inputs != null) inputs.add(x);
            else x.close();
            x = y;
        }
        return x;
    }

    /** Back through a stack of layer graphs from the gradient {@code g} of its output; returns the gradient of its input. */
    private static INDArray backward(List<Segment> stack, List<INDArray> inputs, INDArray g, Map<String, INDArray> feed,
                                     Map<String, INDArray> grads) {
        for (int i = stack.size() - 1; i >= 0; i--) {
            Segment l = stack.get(i);
            Map<String, INDArray> lf = new HashMap<>(only(l, feed));
            lf.put(l.in().name(), inputs.get(i));
            lf.put(l.gradOut().name(), g);
            List<String> lw = new ArrayList<>(l.trainable());
            lw.add(l.in().name());
            Map<String, INDArray> lg = detached(l.sd().calculateGradients(lf, lw));
            Graphs.releaseAfterGradients(l.sd());
            for (String n : l.trainable()) putIfPresent(grads, n, lg.get(n));
            g.close();
            g = lg.get(l.in().name());
        }
        return g;
    }

    @Override public Map<String, INDArray> parameters() { return java.util.Collections.unmodifiableMap(trainable); }

    @Override public boolean ownsResults() { return layout == Layout.PER_LAYER; }

    @Override public Evaluation evaluate(Map<String, INDArray> feed, List<String> reported) {
        Map<String, INDArray> grads = new HashMap<>();
        Map<String, Double> r = new LinkedHashMap<>();
        double total;
        if (layout == Layout.ONE_GRAPH) {
            return oneGraph.evaluate(only(onePlaceholders, feed), reported);
        } else {
            Forward fw = forwardAll(feed, true);
            // the DiT's end: 0.1 · flow loss, and its gradient at the DiT's output rows
            Map<String, INDArray> bf = new HashMap<>(only(ditBack, feed));
            bf.put(ditBack.in().name(), fw.ditOut());
            OutAndGrad bo = ditBack.sd().calculateGradientsAndOutputs(bf, List.of(flowLoss.name()), List.of(ditBack.in().name()));
            double flow = bo.getOutputs().get(flowLoss.name()).getDouble(0);
            INDArray g = bo.getGradients().get(ditBack.in().name()).dup();
            Graphs.releaseAfterGradients(ditBack.sd());
            g = backward(ditLayers, fw.ditInputs(), g, feed, grads);
            // the AR's end: CE, classifier, and the DiT's input side seeded with the gradient from the DiT
            Map<String, INDArray> hf = headFeed(feed, fw);
            hf.put(headSeg.gradOut().name(), g);
            List<String> wrt = new ArrayList<>(headSeg.trainable());
            wrt.add(headIn.name());
            wrt.add(headEmb.name());
            OutAndGrad ho = headSeg.sd().calculateGradientsAndOutputs(hf, List.of(ce.loss().name()), wrt);
            double ar = ho.getOutputs().get(ce.loss().name()).getDouble(0);
            Map<String, INDArray> hg = detached(ho.getGradients());
            Graphs.releaseAfterGradients(headSeg.sd());
            g.close();
            for (String n : headSeg.trainable()) putIfPresent(grads, n, hg.get(n));
            INDArray gAr = backward(layers, fw.arInputs(), hg.get(headIn.name()), feed, grads);
            INDArray gEmb = hg.get(headEmb.name());
            if (!front.trainable().isEmpty()) {
                Map<String, INDArray> ff = new HashMap<>(only(front, feed));
                ff.put("grad.sequence", gAr);
                ff.put("grad.block_embeddings", gEmb);
                Map<String, INDArray> fg = detached(front.sd().calculateGradients(ff, front.trainable()));
                Graphs.releaseAfterGradients(front.sd());
                for (String n : front.trainable()) putIfPresent(grads, n, fg.get(n));
            }
            gAr.close();
            gEmb.close();
            fw.arOut().close();
            fw.blockEmb().close();
            fw.ditOut().close();
            total = ar + FLOW_WEIGHT * flow;
            for (String n : reported) r.put(n, n.equals(ce.loss().name()) ? ar : n.equals(flowLoss.name()) ? flow : Double.NaN);
        }
        return new Evaluation(total, r, grads);
    }

    private static void putIfPresent(Map<String, INDArray> m, String k, INDArray v) {
        if (v != null) m.put(k, v);
    }

    /** The entries of {@code feed} that are placeholders of {@code seg}'s graph (each graph takes only its own). */
    private static Map<String, INDArray> only(Segment seg, Map<String, INDArray> feed) { return only(seg.placeholders(), feed); }

    private static Map<String, INDArray> only(Set<String> placeholders, Map<String, INDArray> feed) {
        Map<String, INDArray> out = new HashMap<>();
        for (String n : placeholders) if (feed.containsKey(n)) out.put(n, feed.get(n));
        return out;
    }

    private static Set<String> placeholders(SameDiff sd) {
        Set<String> out = new java.util.HashSet<>();
        for (SDVariable v : sd.variables()) if (v.getVariableType() == VariableType.PLACEHOLDER) out.add(v.name());
        return out;
    }

    @Override public String trainableTable() {
        StringBuilder sb = new StringBuilder();
        for (Params p : allParams) {
            if (!p.trainable().isEmpty()) sb.append(TrainableReport.of(p).table());
        }
        return sb.toString();
    }

    @Override public String description() { return allParams.get(0).source().description(); }

    /** Copies of the arrays a session returned, which stay valid after its working memory is released. */
    private static Map<String, INDArray> detached(Map<String, INDArray> m) {
        Map<String, INDArray> out = new HashMap<>();
        m.forEach((k, v) -> out.put(k, v == null ? null : v.dup()));
        return out;
    }


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
        long[] y = SongBloomArTraining.targets(config, sketchLen, b.sketch(), b.xLen());
        int t1 = sketchLen + 1;
        for (int i = 0; i < b.size(); i++) {
            if (b.endsAtSongEnd() != null && !b.endsAtSongEnd()[i]) y[i * t1 + Math.toIntExact(b.xLen()[i])] = ignoreId();
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
        int t = sketchLen;
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
        check(b);
        int s = config.blockSize(), lat = config.latentDim();
        DataType dt = xT.dataType();
        Map<String, INDArray> f = new HashMap<>(fixedFeed);
        f.putAll(SongBloomArTraining.frontFeed(config, batch, sketchLen, config.prefixLength(), lyrics == null ? b.prefix() : null,
                b.sketch(), b.latents(), dt));
        if (lyrics != null) {
            f.put(prompt.name(), b.promptCondition().castTo(prompt.dataType()).reshape(prompt.getShape()));
            f.putAll(lyrics.feed(b.lyrics()));
        }
        long[] y = targets(b);
        f.putAll(ce.feed(y, ignoreId(), CrossEntropy.countValid(y, ignoreId())));
        FlowInputs in = flowInputs(b, draws);
        int nv = in.t().length;
        long all = (long) b.size() * blocks;
        float[] hs = new float[Math.toIntExact(nv * all)], ss = new float[hs.length];
        int j = 0;
        for (int row = 0; row < b.size(); row++) {
            int n = Math.toIntExact(b.xLen()[row] / s);
            for (int blk = 0; blk < n; blk++, j++) {
                int col = row * blocks + blk;
                boolean dropH = draws.hUniform() != null && draws.hUniform()[j] < hDropout;
                boolean dropS = draws.sUniform() != null && draws.sUniform()[j] < hDropout;
                hs[Math.toIntExact(j * all + col)] = dropH ? 0f : 1f;
                ss[Math.toIntExact(j * all + col)] = dropS ? 0f : 1f;
            }
        }
        f.put(hSelect.name(), Nd4j.create(hs, new long[] {nv, all}, 'c').castTo(dt));
        f.put(sSelect.name(), Nd4j.create(ss, new long[] {nv, all}, 'c').castTo(dt));
        f.put(xT.name(), Nd4j.create(in.xT(), new long[] {nv, s, lat}, 'c').castTo(dt));
        f.put(t.name(), Nd4j.create(in.t(), new long[] {nv}, 'c').castTo(dt));
        f.put(history.name(), Nd4j.create(in.history(), new long[] {nv, s, lat}, 'c').castTo(dt));
        f.put(target.name(), Nd4j.create(in.target(), new long[] {nv, s, lat}, 'c').castTo(dt));
        return f;
    }

    /** Checks a batch's shapes against the graph, naming what differs. */
    public void check(Batch b) {
        if (b.size() != batch) throw new IllegalArgumentException("batch of " + b.size() + " rows, the graph takes " + batch);
        for (int i = 0; i < b.size(); i++) {
            long l = b.xLen()[i];
            if (l <= 0 || l % config.blockSize() != 0 || l > sketchLen) {
                throw new IllegalArgumentException("row " + i + ": x_len " + l + " must be a positive multiple of the block size "
                        + config.blockSize() + " and at most " + sketchLen);
            }
        }
        if (!Arrays.equals(b.latents().shape(), new long[] {b.size(), sketchLen, config.latentDim()})) {
            throw new IllegalArgumentException("latents must be [" + b.size() + ", " + sketchLen + ", " + config.latentDim()
                    + "] (frames × channels), got " + Arrays.toString(b.latents().shape()));
        }
    }

    /** Output names a step reports besides the loss: the two terms. */
    public List<String> reported() { return new ArrayList<>(List.of(ce.loss().name(), flowLoss.name())); }
}
