package bloom4j.models.llama;

import bloom4j.nn.AttentionContext;
import bloom4j.nn.Graphs;
import bloom4j.nn.KvCache;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.Scope;
import bloom4j.nn.SeqShape;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link LlamaDecoder} as one inference graph that serves prefill and single-token decoding alike: the input is a placeholder
 * {@code inputs_embeds [B, T, hidden]} with T free, and every layer attends over a {@link KvCache} slot (past length 0 for a
 * prefill or a full recompute). One set of weights, one graph; the caller keeps a {@link KvCache} per sequence batch.
 *
 * <p>Per call the graph is fed the rotary tables for absolute positions {@code past .. past+T-1} (the prefix included, as HF counts
 * {@code cache_position}), the causal mask {@code [T, past+T]} and the cache's past keys and values; it returns the requested outputs
 * and the new keys and values, which {@link #run} appends to the cache.
 *
 * <p>Outputs (SameDiff names): {@link #hidden()} = {@code <scope>.last_hidden_state} rows {@code [B·T, hidden]};
 * {@link #lastHidden()} = {@code <scope>.last_hidden_state.last}, the final position of each sequence {@code [B, hidden]};
 * {@link #layerOutput(int)} = {@code <scope>.layers.N.output} rows (HF {@code hidden_states[N+1]}). Only the requested ones are
 * computed.
 */
public final class LlamaGraph {
    /** Name of the input placeholder. */
    public static final String INPUTS_EMBEDS = "inputs_embeds";

    private final SameDiff sd;
    private final LlamaConfig config;
    private final LlamaDecoder decoder;
    private final long batch;
    private final SDVariable inputsEmbeds;     // [B, T, hidden]
    private final RotaryEmbedding rope;
    private final RotaryEmbedding.Tables tables;
    private final SDVariable mask;             // [T, past + T]
    private final List<KvCache.Slot> slots;
    private final List<SDVariable> layerOutputs;
    private final SDVariable hidden;           // [B·T, hidden]
    private final SDVariable lastHidden;       // [B, hidden]
    private final LlamaDecodeKernel kernel;    // the eager single-token step, or null

    /**
     * Builds the decoder under {@code s} (the HF {@code LlamaModel} scope) into {@code s}'s graph, for a fixed batch size (2 for
     * SongBloom's CFG pair).
     */
    public LlamaGraph(Scope s, LlamaConfig c, long batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        this.sd = s.sd();
        this.config = c;
        this.batch = batch;
        decoder = LlamaDecoder.load(s, c);
        inputsEmbeds = sd.placeHolder(INPUTS_EMBEDS, s.dtype(), batch, -1, c.hiddenSize());
        rope = c.rope();
        tables = rope.placeholders(sd, s.key("rope"), s.dtype());
        mask = sd.placeHolder(s.key("causal_mask"), s.dtype(), -1, -1);
        slots = new ArrayList<>();
        for (int i = 0; i < c.numHiddenLayers(); i++) {
            slots.add(KvCache.slot(sd, s.pp("layers").pp(i).pp("self_attn").path(), c.attentionDims(), s.dtype()));
        }
        AttentionContext ctx = AttentionContext.of(SeqShape.fixedBatch(sd, batch), tables, mask);
        layerOutputs = new ArrayList<>();
        SDVariable out = decoder.forwardRows(inputsEmbeds.reshape(-1, c.hiddenSize()), ctx, slots, layerOutputs);
        for (int i = 0; i < layerOutputs.size(); i++) layerOutputs.get(i).rename(s.pp("layers").pp(i).key("output"));
        hidden = out.rename(s.key("last_hidden_state"));
        lastHidden = hidden.reshape(batch, -1, c.hiddenSize()).get(SDIndex.all(), SDIndex.point(-1), SDIndex.all())
                .rename(s.key("last_hidden_state.last"));
        kernel = LlamaDecodeKernel.supports(decoder) ? LlamaDecodeKernel.of(decoder, slots) : null;
    }

    public SameDiff sd() { return sd; }

    public LlamaConfig config() { return config; }

    /** The layers and final norm this graph runs. */
    public LlamaDecoder decoder() { return decoder; }

    public long batch() { return batch; }

    /** {@code last_hidden_state} rows {@code [B·T, hidden]} (after the final norm). */
    public SDVariable hidden() { return hidden; }

    /** The final position's {@code last_hidden_state} of each sequence, {@code [B, hidden]}. */
    public SDVariable lastHidden() { return lastHidden; }

    /** Output rows of layer {@code i} before the final norm. */
    public SDVariable layerOutput(int i) { return layerOutputs.get(i); }

    /** The per-layer cache slots, in layer order. */
    public List<KvCache.Slot> slots() { return List.copyOf(slots); }

    /** An empty cache for this graph, growing from {@code capacity} positions. */
    public KvCache newCache(int capacity) {
        return new KvCache(slots, batch, config.attentionDims(), capacity, inputsEmbeds.dataType());
    }

    /**
     * The placeholders for {@code embeds [B, T, hidden]} following the cache's {@link KvCache#length()} positions: input, rotary
     * tables, causal mask and the cache's past.
     */
    public Map<String, INDArray> feed(INDArray embeds, KvCache cache) {
        long[] sh = embeds.shape();
        if (sh.length != 3 || sh[0] != batch || sh[2] != config.hiddenSize() || sh[1] < 1) {
            throw new IllegalArgumentException("inputs_embeds must be [" + batch + ", T >= 1, " + config.hiddenSize() + "], got "
                    + Arrays.toString(sh));
        }
        int t = Math.toIntExact(sh[1]);
        int past = cache.length();
        Map<String, INDArray> f = new HashMap<>(rope.feed(tables, past, t));
        f.put(INPUTS_EMBEDS, embeds.dataType() == inputsEmbeds.dataType() ? embeds : embeds.castTo(inputsEmbeds.dataType()));
        f.put(mask.name(), cache.causalMask(t, inputsEmbeds.dataType()));
        cache.feed(f);
        return f;
    }

    /**
     * One single-token decode step: {@code x [B, hidden]} (or {@code [B, 1, hidden]}) after the cached positions; appends its keys and
     * values to the cache and returns {@code last_hidden_state [B, hidden]}. Runs the eager {@link LlamaDecodeKernel} over the graph's
     * weights when they are frozen (inference), else the graph; both compute the same function (tested).
     */
    public INDArray decode(INDArray x, KvCache cache) {
        long[] sh = x.shape();
        boolean ok = (sh.length == 2 || (sh.length == 3 && sh[1] == 1)) && sh[0] == batch && sh[sh.length - 1] == config.hiddenSize();
        if (!ok) {
            throw new IllegalArgumentException("decode takes one token per sequence, [" + batch + ", " + config.hiddenSize() + "] or ["
                    + batch + ", 1, " + config.hiddenSize() + "], got " + Arrays.toString(sh));
        }
        return kernel != null ? kernel.step(x.reshape(batch, config.hiddenSize()), cache) : decodeWithGraph(x, cache);
    }

    /** {@link #decode} through the graph: the plain path the kernel is checked against. */
    INDArray decodeWithGraph(INDArray x, KvCache cache) {
        return run(x.reshape(batch, 1, config.hiddenSize()), cache, lastHidden.name()).get(lastHidden.name());
    }

    /**
     * Frees what the graph's sessions cache between calls ({@link Graphs#releaseWorkingMemory}): call it after a long prefill when
     * decoding continues with {@link #decode}, which does not use them.
     */
    public void releaseWorkingMemory() { Graphs.releaseWorkingMemory(sd); }

    /** Whether {@link #decode} runs the eager kernel. */
    public boolean hasDecodeKernel() { return kernel != null; }

    /**
     * One prefill or decode call: feeds {@code embeds [B, T, hidden]} after the cached positions, computes {@code outputs} (names of
     * variables of this graph), appends the new keys and values to {@code cache} and returns the outputs by name.
     */
    public Map<String, INDArray> run(INDArray embeds, KvCache cache, String... outputs) {
        Map<String, INDArray> feed = feed(embeds, cache);
        Set<String> names = new LinkedHashSet<>(Arrays.asList(outputs));
        names.addAll(Arrays.asList(cache.outputNames()));
        Map<String, INDArray> out = sd.output(feed, names.toArray(new String[0]));
        cache.append(out);
        return out;
    }
}
