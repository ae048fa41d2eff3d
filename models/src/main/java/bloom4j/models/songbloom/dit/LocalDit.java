package bloom4j.models.songbloom.dit;

import bloom4j.nn.Activation;
import bloom4j.nn.Attention;
import bloom4j.nn.AttentionContext;
import bloom4j.nn.AttentionDims;
import bloom4j.nn.Graphs;
import bloom4j.nn.LayerNorm;
import bloom4j.nn.Linear;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.Mlp;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.PreNormBlock;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.Scope;
import bloom4j.nn.SeqShape;
import bloom4j.nn.SwiGluMlp;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SongBloom's local DiT: {@code MVSA_DiTAR.diffusion_forward} (tencent-ailab/SongBloom@ef78022, {@code songbloom_mvsa.py}
 * L309-351) over {@code nar_dit}, a {@code ContinuousTransformer} ({@code SongBloom/models/transformer.py}, after
 * stable-audio-tools / x-transformers).
 *
 * <pre>
 *   u    = project_in(cat(history_x, x))                     [B, 2·block, D]
 *   temb = to_timestep_embed(FourierFeatures(t))              Linear(F→D, no bias) · SiLU · Linear(D→D); f = 2π·t·Wᵀ, cat(cos f, sin f)
 *   seq  = cat(temb, h, s, u)                                 [B, 2 + 3·block, D]  (50 tokens for the release)
 *   per layer (no adaLN: time_cond_type "prepend"):
 *     x = x + to_out(attn(rope(split3(to_qkv(LN(x))))))       LN: gamma, beta buffer, eps 1e-5; bidirectional; RoPE on the first
 *                                                             max(dh/2, 32) dims of each head, base 20000, positions 0..L−1
 *     x = x + ff.2(ff.0.up(LN(x)) · silu(ff.0.gate(LN(x))))   SwiGLU, no biases
 *   out  = project_out(seq_out[:, −block:])                   [B, block, latent]; no final norm
 *   CFG (cfg_coef given): batch doubled with zero h and zero s; out = u + (c − u)·cfg
 * </pre>
 * One SameDiff graph with a dynamic batch: B = 2 under CFG. Layers come from {@code bloom4j.nn} under the checkpoint's names
 * ({@code model.nar_dit.layers.M.self_attn.to_qkv.weight}); {@link #load(TensorSource, DitConfig)} checks that every DiT key of the checkpoint was used.
 */
public final class LocalDit {
    private final DitConfig config;
    private final SameDiff sd;
    private final SDVariable out;       // [B, block, latent]
    private final SDVariable temb;      // [B, D]
    private final SDVariable seqIn;     // [B, L, D]
    private final SDVariable seqOut;    // [B, L, D]

    private LocalDit(DitConfig config, SameDiff sd, SDVariable out, SDVariable temb, SDVariable seqIn, SDVariable seqOut) {
        this.config = config;
        this.sd = sd;
        this.out = out;
        this.temb = temb;
        this.seqIn = seqIn;
        this.seqOut = seqOut;
    }

    /**
     * Loads the DiT from a SongBloom checkpoint's {@code model.} keys in a graph of its own and checks that it used every DiT
     * tensor of the checkpoint ({@link #isDitKey}): a DiT key left over means the checkpoint and the config disagree.
     */
    public static LocalDit load(TensorSource src, DitConfig c) {
        Scope root = Scope.root(Graphs.create(), ParamSource.of(src), LoadOptions.inference());
        LocalDit dit = build(root.pp("model"), c);
        Params p = root.params();
        List<String> unused = p.unused().stream().filter(LocalDit::isDitKey).toList();
        Params.requireComplete("the DiT in " + src.description(), p.missing(), unused, p.source()::shape,
                "check diff_layers, dim and hidden_scale of the config against the checkpoint");
        return dit;
    }

    /** Whether a SongBloom checkpoint key belongs to the DiT (the layers and the projections and time embedding around them). */
    public static boolean isDitKey(String k) {
        return k.startsWith("model.nar_dit.") || k.startsWith("model.project_in.") || k.startsWith("model.project_out.")
                || k.startsWith("model.timestep_features.") || k.startsWith("model.to_timestep_embed.");
    }

    /** Builds the DiT from the {@code model.} scope of a SongBloom checkpoint (or any scope whose params the caller controls). */
    public static LocalDit build(Scope model, DitConfig c) {
        SameDiff sd = model.sd();
        DataType dt = model.dtype();
        int d = c.dim(), block = c.blockSize(), latent = c.latentDim();
        return build(model, c, new Inputs(sd.placeHolder("x", dt, -1, block, latent), sd.placeHolder("t", dt, -1),
                sd.placeHolder("h", dt, -1, d), sd.placeHolder("s", dt, -1, block, d), sd.placeHolder("history_x", dt, -1, block, latent)));
    }

    /**
     * What {@code diffusion_forward} takes, as variables of the graph being built: x and history_x {@code [B, block, latent]}, t
     * {@code [B]}, h {@code [B, D]}, s {@code [B, block, D]}. Training builds the DiT over h and s computed by the AR in the same
     * graph, so that the flow loss reaches the AR's adapters.
     */
    public record Inputs(SDVariable x, SDVariable t, SDVariable h, SDVariable s, SDVariable historyX) { }

    /** Builds the DiT over {@code in} (placeholders or upstream variables) from the {@code model.} scope. */
    public static LocalDit build(Scope model, DitConfig c, Inputs in) {
        SameDiff sd = model.sd();
        Front f = front(model, c, in);
        AttentionContext ctx = context(model, c, f.sequence());
        SDVariable rows = f.sequence().reshape(-1, c.dim());                                         // [B·L, D]
        for (int i = 0; i < c.depth(); i++) rows = layer(model, c, i).forward(rows, ctx, null);
        SDVariable seqOut = rows.reshape(-1, c.sequenceLength(), c.dim());
        return new LocalDit(c, sd, back(model, c, seqOut), f.timestepEmbedding(), f.sequence(), seqOut);
    }

    /** The transformer's input {@code [B, L, D]} = cat(temb, h, s, project_in(cat(history_x, x))), and the time embedding. */
    public record Front(SDVariable sequence, SDVariable timestepEmbedding) { }

    /** Builds the {@link Front} (projections and time embedding) from the {@code model.} scope. */
    public static Front front(Scope model, DitConfig c, Inputs in) {
        SameDiff sd = model.sd();
        int d = c.dim(), block = c.blockSize(), latent = c.latentDim();
        SDVariable x = in.x(), t = in.t(), h = in.h(), s = in.s(), hist = in.historyX();
        Linear projectIn = Linear.load(model.pp("project_in"), latent, d, true);
        SDVariable u = projectIn.forwardRows(sd.concat(1, hist, x).reshape(-1, latent)).reshape(-1, 2L * block, d);
        // FourierFeatures(1, F): f = 2π·t·Wᵀ, W [F/2, 1]; then to_timestep_embed
        int half = c.timestepFeaturesDim() / 2;
        SDVariable w = model.pp("timestep_features").param("weight", half, 1);
        SDVariable f = sd.mmul(t.reshape(-1, 1).mul(2 * Math.PI), w, false, true, false);          // [B, F/2]
        SDVariable feats = sd.concat(1, sd.math.cos(f), sd.math.sin(f));                             // [B, F]
        SDVariable temb = Mlp.load(model.pp("to_timestep_embed"), c.timestepFeaturesDim(), d, d, Activation.SILU, "0", false, "2", true)
                .forwardRows(feats);                                                                  // [B, D]
        SDVariable seq = sd.concat(1, temb.reshape(-1, 1, d), h.reshape(-1, 1, d), s, u);            // [B, L, D]
        return new Front(seq, temb);
    }

    /** The attention context of the layers over {@code seq [B, L, D]}: bidirectional, partial RoPE at positions 0..L−1. */
    public static AttentionContext context(Scope model, DitConfig c, SDVariable seq) {
        RotaryEmbedding rope = new RotaryEmbedding(c.headDim(), c.rotaryDim(), c.rotaryBase());
        return AttentionContext.of(SeqShape.of(seq), rope.constants(model.sd(), "model.nar_dit.rotary_pos_emb", 0, c.sequenceLength(),
                model.dtype()), null);
    }

    /** Layer {@code i} ({@code nar_dit.layers.i}) alone, for a graph of its own (training with per-layer recomputation). */
    public static PreNormBlock layer(Scope model, DitConfig c, int i) {
        int d = c.dim();
        Scope l = model.pp("nar_dit.layers").pp(i);
        return new PreNormBlock(
                LayerNorm.load(l.pp("pre_norm"), d, c.layerNormEps(), "gamma", "beta"),
                Attention.fused(l.pp("self_attn"), AttentionDims.mha(d, c.heads()), false, false, "to_qkv", "to_out"),
                LayerNorm.load(l.pp("ff_norm"), d, c.layerNormEps(), "gamma", "beta"),
                SwiGluMlp.load(l.pp("ff.ff"), d, c.ffDim(), false, "0.gate_proj", "0.up_proj", "2"));
    }

    /** {@code project_out} of the last block's positions of the layers' output {@code [B, L, D]}: the prediction {@code [B, block, latent]}. */
    public static SDVariable back(Scope model, DitConfig c, SDVariable seqOut) {
        int d = c.dim(), block = c.blockSize(), len = c.sequenceLength();
        SDVariable last = seqOut.get(SDIndex.all(), SDIndex.interval(len - block, len), SDIndex.all());   // [B, block, D]
        Linear projectOut = Linear.load(model.pp("project_out"), d, c.latentDim(), true);
        return projectOut.forwardRows(last.reshape(-1, d)).reshape(-1, block, c.latentDim());
    }

    public DitConfig config() { return config; }

    public SameDiff graph() { return sd; }

    /** The prediction {@code [B, block, latent]} (without CFG). */
    public SDVariable output() { return out; }

    /** Everything one call computes, for parity and debugging. */
    public record Trace(INDArray out, INDArray timestepEmbed, INDArray seqIn, INDArray seqOut) { }

    /**
     * {@code diffusion_forward(x, t, h, s, history_x, cfg_coef)}: x and history_x {@code [B, block, latent]}, t {@code [B]}, h
     * {@code [B, D]}, s {@code [B, block, D]}. {@code cfgCoef} null runs the batch as given; otherwise the batch is doubled with
     * zero h and s and the two halves combined.
     */
    public INDArray forward(INDArray x, INDArray t, INDArray h, INDArray s, INDArray historyX, Double cfgCoef) {
        return trace(x, t, h, s, historyX, cfgCoef, false).out();
    }

    Trace trace(INDArray x, INDArray t, INDArray h, INDArray s, INDArray historyX, Double cfgCoef, boolean all) {
        long b = x.size(0);
        check(x, "x", b, config.blockSize(), config.latentDim());
        check(historyX, "history_x", b, config.blockSize(), config.latentDim());
        check(h, "h", b, config.dim());
        check(s, "s", b, config.blockSize(), config.dim());
        check(t, "t", b);
        if (cfgCoef != null) {
            x = Nd4j.concat(0, x, x);
            t = Nd4j.concat(0, t, t);
            h = Nd4j.concat(0, h, Nd4j.zerosLike(h));
            s = Nd4j.concat(0, s, Nd4j.zerosLike(s));
            historyX = Nd4j.concat(0, historyX, historyX);
        }
        Map<String, INDArray> feed = new LinkedHashMap<>();
        DataType dt = sd.getVariable("x").dataType();
        feed.put("x", x.castTo(dt));
        feed.put("t", t.castTo(dt));
        feed.put("h", h.castTo(dt));
        feed.put("s", s.castTo(dt));
        feed.put("history_x", historyX.castTo(dt));
        List<String> names = all ? List.of(out.name(), temb.name(), seqIn.name(), seqOut.name()) : List.of(out.name());
        Map<String, INDArray> r = sd.output(feed, names.toArray(new String[0]));
        INDArray y = r.get(out.name());
        if (cfgCoef != null) {
            INDArray cond = y.get(NDArrayIndex.interval(0, b), NDArrayIndex.all(), NDArrayIndex.all());
            INDArray uncond = y.get(NDArrayIndex.interval(b, 2 * b), NDArrayIndex.all(), NDArrayIndex.all());
            y = uncond.add(cond.sub(uncond).muli(cfgCoef.floatValue()));                     // u + (c − u)·cfg, float32 as upstream
        }
        return new Trace(y, r.get(temb.name()), r.get(seqIn.name()), r.get(seqOut.name()));
    }

    private static void check(INDArray a, String name, long... shape) {
        if (!Arrays.equals(a.shape(), shape)) {
            throw new IllegalArgumentException(name + " must be " + Arrays.toString(shape) + ", got " + Arrays.toString(a.shape()));
        }
    }
}
