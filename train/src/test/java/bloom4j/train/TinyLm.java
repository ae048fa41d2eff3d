package bloom4j.train;

import bloom4j.nn.Attention;
import bloom4j.nn.AttentionContext;
import bloom4j.nn.AttentionDims;
import bloom4j.nn.AttentionMask;
import bloom4j.nn.Embedding;
import bloom4j.nn.Init;
import bloom4j.nn.Linear;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.PreNormBlock;
import bloom4j.nn.RmsNorm;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.Scope;
import bloom4j.nn.SeqShape;
import bloom4j.nn.SwiGluMlp;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tiny causal Llama LM built from nn's blocks, standing in for the SongBloom AR model until it lands: embed_tokens, pre-norm blocks
 * (RMSNorm, GQA attention with rotary, SwiGLU) under HF Llama keys, final norm, lm_head, token cross-entropy. Optionally an
 * {@code aux_head} linear whose output never reaches the loss (for the gradient guard).
 */
final class TinyLm {
    record Config(int vocab, int hidden, int heads, int kvHeads, int ffn, int layers) {
        AttentionDims dims() { return new AttentionDims(hidden, heads, kvHeads, hidden / heads); }
    }

    static final Config SMALL = new Config(24, 32, 4, 2, 48, 2);
    static final long IGNORE = -100;

    final Config cfg;
    final SameDiff sd = SameDiff.create();
    final Scope root;
    final SDVariable ids, mask, logits;
    final RotaryEmbedding rope;
    final RotaryEmbedding.Tables tables;
    final CrossEntropy ce;

    static Map<String, INDArray> weights(Config c, long seed, DataType dt) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        AttentionDims d = c.dims();
        Init w = Init.normal(0.2, seed);
        put(m, w, "model.embed_tokens.weight", dt, c.vocab(), c.hidden());
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            m.put(p + "input_layernorm.weight", Nd4j.ones(dt, c.hidden()));
            put(m, w, p + "self_attn.q_proj.weight", dt, d.qDim(), c.hidden());
            put(m, w, p + "self_attn.k_proj.weight", dt, d.kvDim(), c.hidden());
            put(m, w, p + "self_attn.v_proj.weight", dt, d.kvDim(), c.hidden());
            put(m, w, p + "self_attn.o_proj.weight", dt, c.hidden(), d.qDim());
            m.put(p + "post_attention_layernorm.weight", Nd4j.ones(dt, c.hidden()));
            put(m, w, p + "mlp.gate_proj.weight", dt, c.ffn(), c.hidden());
            put(m, w, p + "mlp.up_proj.weight", dt, c.ffn(), c.hidden());
            put(m, w, p + "mlp.down_proj.weight", dt, c.hidden(), c.ffn());
        }
        m.put("model.norm.weight", Nd4j.ones(dt, c.hidden()));
        put(m, w, "lm_head.weight", dt, c.vocab(), c.hidden());
        put(m, w, "aux_head.weight", dt, 4, c.hidden());
        return m;
    }

    private static void put(Map<String, INDArray> m, Init w, String k, DataType dt, long... shape) { m.put(k, w.create(k, shape, dt)); }

    TinyLm(Config cfg, ParamSource source, LoadOptions options, boolean auxHead) {
        this.cfg = cfg;
        DataType dt = options.dtype();
        root = Scope.root(sd, source, options);
        ids = sd.placeHolder("ids", DataType.INT64, -1, -1);
        rope = RotaryEmbedding.full(cfg.dims().headDim(), 10000);
        tables = rope.placeholders(sd, "rope", dt);
        mask = sd.placeHolder("mask", dt, -1, -1);
        AttentionContext ctx = AttentionContext.of(SeqShape.of(ids), tables, mask);
        Scope model = root.pp("model");
        SDVariable h = Embedding.load(model.pp("embed_tokens"), cfg.vocab(), cfg.hidden()).forwardRows(ids);   // [B·T, D]
        for (int i = 0; i < cfg.layers(); i++) {
            Scope l = model.pp("layers").pp(i);
            PreNormBlock block = new PreNormBlock(RmsNorm.load(l.pp("input_layernorm"), cfg.hidden(), 1e-6),
                    Attention.separate(l.pp("self_attn"), cfg.dims(), false, false),
                    RmsNorm.load(l.pp("post_attention_layernorm"), cfg.hidden(), 1e-6),
                    SwiGluMlp.llama(l.pp("mlp"), cfg.hidden(), cfg.ffn()));
            h = block.forward(h, ctx, null);
        }
        h = RmsNorm.load(model.pp("norm"), cfg.hidden(), 1e-6).forwardRows(h);
        logits = Linear.load(root.pp("lm_head"), cfg.hidden(), cfg.vocab(), false).forwardRows(h);          // [B·T, V]
        if (auxHead) Linear.load(root.pp("aux_head"), cfg.hidden(), 4, false).forwardRows(h);               // never reaches the loss
        ce = CrossEntropy.build(logits, cfg.vocab(), "loss");
    }

    /** Inputs for {@code tokens [B][T+1]}: ids = tokens[:, :T], labels = tokens[:, 1:] (IGNORE stays ignored). */
    Map<String, INDArray> inputs(long[][] tokens) {
        int b = tokens.length, t = tokens[0].length - 1;
        long[] ids = new long[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) ids[i * t + j] = Math.max(tokens[i][j], 0);
        Map<String, INDArray> f = new HashMap<>(rope.feed(tables, 0, t));
        f.put("ids", Nd4j.createFromArray(ids).reshape(b, t));
        f.put("mask", AttentionMask.causal(t, 0, mask.dataType()));
        return f;
    }

    static long[] labels(long[][] tokens) {
        int b = tokens.length, t = tokens[0].length - 1;
        long[] l = new long[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) l[i * t + j] = tokens[i][j + 1];
        return l;
    }

    /** One micro-batch of a step whose micro-batches hold {@code validInStep} labels in all. */
    Trainer.MicroBatch micro(long[][] tokens, long validInStep) {
        Map<String, INDArray> f = inputs(tokens);
        f.putAll(ce.feed(labels(tokens), IGNORE, validInStep));
        return new Trainer.MicroBatch(f, (long) tokens.length * (tokens[0].length - 1));
    }

    /** The step's micro-batches, normalised over all of them. */
    java.util.List<Trainer.MicroBatch> step(java.util.List<long[][]> micro) {
        long valid = 0;
        for (long[][] t : micro) valid += CrossEntropy.countValid(labels(t), IGNORE);
        java.util.List<Trainer.MicroBatch> out = new java.util.ArrayList<>();
        for (long[][] t : micro) out.add(micro(t, valid));
        return out;
    }

    INDArray logits(Map<String, INDArray> feed) { return sd.output(feed, logits.name()).get(logits.name()); }

    /**
     * Synthetic sequences: a fixed random permutation π of the vocabulary, x[t+1] = π(x[t]), random starts; learnable from the current
     * token alone.
     */
    static long[][] batch(int b, int t, int vocab, SplittableRandom rng) {
        int[] perm = permutation(vocab);
        long[][] out = new long[b][t + 1];
        for (int i = 0; i < b; i++) {
            out[i][0] = rng.nextInt(vocab);
            for (int j = 1; j <= t; j++) out[i][j] = perm[(int) out[i][j - 1]];
        }
        return out;
    }

    static int[] permutation(int vocab) {
        SplittableRandom r = new SplittableRandom(1234);
        int[] p = new int[vocab];
        for (int i = 0; i < vocab; i++) p[i] = i;
        for (int i = vocab - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }
}
