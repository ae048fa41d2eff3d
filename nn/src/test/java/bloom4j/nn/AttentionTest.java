package bloom4j.nn;

import org.junit.jupiter.api.Test;
import static org.junit.jupiter.api.Assertions.assertTrue;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AttentionTest {
    static final double BASE = 10000;

    /** A one-attention graph: x [B, T, hidden] placeholder, rows through the attention, output rows [B·T, hidden]. */
    static final class Net {
        final SameDiff sd = SameDiff.create();
        final SDVariable x, y, mask;
        final RotaryEmbedding rope;
        final RotaryEmbedding.Tables tables;
        final KvCache.Slot slot;
        final Scope scope;

        Net(Map<String, INDArray> weights, AttentionDims d, boolean fused, boolean causal, int rot, long batch, boolean cached,
            DataType dt, boolean trainable) {
            scope = Scope.root(sd, ParamSource.of(weights), LoadOptions.inference().dtype(dt).trainable(k -> trainable)).pp("attn");
            Attention a = fused ? Attention.fused(scope, d, false, false, "to_qkv", "to_out")
                    : Attention.separate(scope, d, weights.containsKey("attn.q_proj.bias"), false);
            x = sd.placeHolder("x", dt, batch, -1, d.hidden());
            rope = rot > 0 ? new RotaryEmbedding(d.headDim(), rot, BASE) : null;
            tables = rope == null ? null : rope.placeholders(sd, "rope", dt);
            mask = causal ? sd.placeHolder("mask", dt, -1, -1) : null;
            slot = cached ? KvCache.slot(sd, scope.path(), d, dt) : null;
            y = a.forward(x.reshape(-1, d.hidden()), AttentionContext.of(SeqShape.of(x), tables, mask), slot);
        }

        Map<String, INDArray> feed(INDArray xv, int past) {
            int t = (int) xv.size(1);
            Map<String, INDArray> f = new HashMap<>();
            f.put("x", xv);
            if (rope != null) f.putAll(rope.feed(tables, past, t));
            if (mask != null) f.put("mask", AttentionMask.causal(t, past, xv.dataType()));
            return f;
        }

        /** Placeholders for {@code xv} after the cached positions, the cache's past and mask included. */
        Map<String, INDArray> feed(INDArray xv, KvCache cache) {
            Map<String, INDArray> f = feed(xv, cache.length());
            f.put("mask", cache.causalMask((int) xv.size(1), xv.dataType()));
            cache.feed(f);
            return f;
        }
    }

    static Map<String, INDArray> separateWeights(AttentionDims d, boolean bias) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("attn.q_proj.weight", Rand.normal(11, 0.5, d.qDim(), d.hidden()));
        m.put("attn.k_proj.weight", Rand.normal(12, 0.5, d.kvDim(), d.hidden()));
        m.put("attn.v_proj.weight", Rand.normal(13, 0.5, d.kvDim(), d.hidden()));
        m.put("attn.o_proj.weight", Rand.normal(14, 0.5, d.hidden(), d.qDim()));
        if (bias) {
            m.put("attn.q_proj.bias", Rand.normal(15, 0.5, d.qDim()));
            m.put("attn.k_proj.bias", Rand.normal(16, 0.5, d.kvDim()));
            m.put("attn.v_proj.bias", Rand.normal(17, 0.5, d.kvDim()));
        }
        return m;
    }

    static Map<String, INDArray> fusedWeights(AttentionDims d) {
        return Map.of("attn.to_qkv.weight", Rand.normal(21, 0.5, d.qDim() + 2L * d.kvDim(), d.hidden()),
                "attn.to_out.weight", Rand.normal(22, 0.5, d.hidden(), d.qDim()));
    }

    static double[] rows(INDArray w, long from, long to) {
        return Reference.of(w.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()));
    }

    /** Frozen weights take the fused q|k|v path, trainable ones the separate path: both must match the loops. */
    @Test void separateCausalGqaPartialRopeMatchesLoops() {
        for (boolean trainable : new boolean[] {false, true}) separateCausalGqaPartialRope(trainable);
    }

    private static void separateCausalGqaPartialRope(boolean trainable) {
        AttentionDims d = new AttentionDims(10, 4, 2, 6);
        Map<String, INDArray> w = separateWeights(d, false);
        Net net = new Net(w, d, false, true, 4, -1, false, DataType.DOUBLE, trainable);
        assertEquals(trainable ? 4 : 2, net.scope.params().variables().size());   // frozen: fused q|k|v + o_proj
        INDArray xv = Rand.normal(31, 2, 5, d.hidden());
        INDArray got = net.sd.output(net.feed(xv, 0), net.y.name()).get(net.y.name());
        double[] want = Reference.selfAttention(Reference.of(xv), 2, 5, d.hidden(), 4, 2, 6, 4, BASE, true,
                Reference.of(w.get("attn.q_proj.weight")), Reference.of(w.get("attn.k_proj.weight")),
                Reference.of(w.get("attn.v_proj.weight")), Reference.of(w.get("attn.o_proj.weight")));
        assertArrayEquals(new long[] {10, d.hidden()}, got.shape());
        assertArrayEquals(want, Reference.of(got), 1e-12);
    }

    private static void checkFused(AttentionDims d, int rot) {
        Map<String, INDArray> w = fusedWeights(d);
        Net net = new Net(w, d, true, false, rot, 2, false, DataType.DOUBLE, false);
        INDArray xv = Rand.normal(32, 2, 4, d.hidden());
        INDArray got = net.sd.output(net.feed(xv, 0), net.y.name()).get(net.y.name());
        INDArray qkv = w.get("attn.to_qkv.weight");
        int a = d.qDim(), b = a + d.kvDim(), c = b + d.kvDim();
        double[] want = Reference.selfAttention(Reference.of(xv), 2, 4, d.hidden(), d.heads(), d.kvHeads(), d.headDim(), rot, BASE,
                false, rows(qkv, 0, a), rows(qkv, a, b), rows(qkv, b, c), Reference.of(w.get("attn.to_out.weight")));
        assertArrayEquals(want, Reference.of(got), 1e-12);
    }

    @Test void fusedBidirectionalPartialRopeMatchesLoops() { checkFused(AttentionDims.mha(12, 3), 2); }

    @Test void fusedGqaUnequalChunksMatchLoops() { checkFused(new AttentionDims(8, 4, 2, 2), 2); }

    @Test void fusedWithoutRopeMatchesLoops() { checkFused(AttentionDims.mha(12, 3), 0); }

    @Test void separateCausalGqaGradient() {
        AttentionDims d = new AttentionDims(6, 4, 2, 4);
        Net net = new Net(separateWeights(d, true), d, false, true, 2, -1, false, DataType.DOUBLE, true);
        GradientCheck.of(net.sd, net.y).feed(net.feed(Rand.normal(33, 2, 3, d.hidden()), 0)).inputs("x").check();
    }

    /** Frozen base weights (the LoRA case) take the fused path; the gradient still reaches the input through it. */
    @Test void frozenFusedGqaInputGradient() {
        AttentionDims d = new AttentionDims(6, 4, 2, 4);
        Net net = new Net(separateWeights(d, true), d, false, true, 2, -1, false, DataType.DOUBLE, false);
        assertTrue(net.sd.variables().stream().noneMatch(v -> v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE));
        GradientCheck.of(net.sd, net.y).feed(net.feed(Rand.normal(36, 2, 3, d.hidden()), 0)).inputs("x").maxPerArray(36).check();
    }

    @Test void fusedBidirectionalGradient() {
        AttentionDims d = AttentionDims.mha(6, 2);
        Net net = new Net(fusedWeights(d), d, true, false, 2, -1, false, DataType.DOUBLE, true);
        GradientCheck.of(net.sd, net.y).feed(net.feed(Rand.normal(34, 2, 3, d.hidden()), 0)).inputs("x").check();
    }

    /**
     * Prefill N tokens, then three single-token steps: each output equals the full causal recompute over N+3 tokens, both through the
     * cached graph (empty past) and through the plain uncached attention.
     */
    private static void checkCache(long declaredBatch, boolean trainable) { checkCache(new AttentionDims(16, 4, 2, 8), declaredBatch, trainable); }

    private static void checkCache(AttentionDims d, long declaredBatch, boolean trainable) {
        int b = 2, n = 5, steps = 3;
        Map<String, INDArray> w = separateWeights(d, false);
        w.replaceAll((k, v) -> v.castTo(DataType.FLOAT));
        Net net = new Net(w, d, false, true, 4, declaredBatch, true, DataType.FLOAT, trainable);
        INDArray xs = Rand.normal(35, b, n + steps, d.hidden()).castTo(DataType.FLOAT);

        KvCache full = new KvCache(List.of(net.slot), b, d, 16, DataType.FLOAT);
        Map<String, INDArray> f = net.feed(xs, full);
        INDArray want = net.sd.output(f, net.y.name()).get(net.y.name()).reshape(b, n + steps, d.hidden());
        Net plain = new Net(w, d, false, true, 4, declaredBatch, false, DataType.FLOAT, trainable);
        INDArray uncached = plain.sd.output(plain.feed(xs, 0), plain.y.name()).get(plain.y.name()).reshape(b, n + steps, d.hidden());
        double plainDiff = Transforms.abs(want.sub(uncached)).maxNumber().doubleValue();
        assertTrue(plainDiff < 1e-5, "cached graph with an empty past vs plain attention: max |diff| " + plainDiff);

        KvCache cache = new KvCache(List.of(net.slot), b, d, 2, DataType.FLOAT);   // capacity 2: grows while prefilling
        List<INDArray> got = new ArrayList<>();
        for (int[] span : new int[][] {{0, n}, {n, n + 1}, {n + 1, n + 2}, {n + 2, n + 3}}) {
            INDArray xv = xs.get(NDArrayIndex.all(), NDArrayIndex.interval(span[0], span[1]), NDArrayIndex.all()).dup();
            assertEquals(span[0], cache.length());
            Map<String, INDArray> feed = net.feed(xv, cache);
            List<String> names = new ArrayList<>(List.of(cache.outputNames()));
            names.add(net.y.name());
            Map<String, INDArray> out = net.sd.output(feed, names.toArray(new String[0]));
            cache.append(out);
            got.add(out.get(net.y.name()).reshape(b, span[1] - span[0], d.hidden()));
        }
        assertEquals(n + steps, cache.length());
        assertTrue(cache.capacity() >= n + steps);
        INDArray inc = org.nd4j.linalg.factory.Nd4j.concat(1, got.toArray(new INDArray[0]));
        double maxDiff = Math.abs(inc.sub(want).maxNumber().doubleValue());
        maxDiff = Math.max(maxDiff, Math.abs(inc.sub(want).minNumber().doubleValue()));
        assertTrue(maxDiff < 1e-5, "incremental vs full: max |diff| " + maxDiff);
    }

    @Test void kvCacheDecodeEqualsFullRecomputeDynamicShape() { checkCache(-1, false); }

    @Test void kvCacheDecodeEqualsFullRecomputeFixedBatch() { checkCache(2, false); }

    @Test void kvCacheDecodeEqualsFullRecomputeSeparateProjections() { checkCache(2, true); }

    @Test void kvCacheDecodeEqualsFullRecomputeMha() { checkCache(AttentionDims.mha(16, 2), -1, false); }

    @Test void dimsValidate() {
        assertThrows(IllegalArgumentException.class, () -> new AttentionDims(8, 3, 2, 4));
        assertThrows(IllegalArgumentException.class, () -> AttentionDims.mha(10, 3));
        assertEquals(2, new AttentionDims(8, 4, 2, 2).groups());
    }

    @Test void weightsComputedOnceServeSeveralValueSets() {
        org.nd4j.autodiff.samediff.SameDiff sd = Graphs.create();
        AttentionDims d = AttentionDims.mha(8, 2);
        Nd4j.getRandom().setSeed(5);
        SDVariable q = sd.constant("q", Nd4j.randn(DataType.DOUBLE, 1, 2, 5, 4));
        SDVariable k = sd.constant("k", Nd4j.randn(DataType.DOUBLE, 1, 2, 7, 4));
        SDVariable v1 = sd.constant("v1", Nd4j.randn(DataType.DOUBLE, 1, 2, 7, 4));
        SDVariable v2 = sd.constant("v2", Nd4j.randn(DataType.DOUBLE, 1, 2, 7, 3));   // another value width, as Zipformer's modules have
        SeqShape seq = SeqShape.fixed(sd, 1, 5);
        SDVariable w = Attention.weights(q, k, null, d, seq);
        SDVariable a1 = Attention.apply(w, v1, d, seq), a2 = Attention.apply(w, v2, d, seq);
        SDVariable ref = Attention.attend(q, k, v1, null, d, seq);
        java.util.Map<String, INDArray> out = sd.output(java.util.Map.of(), w.name(), a1.name(), a2.name(), ref.name());
        INDArray sums = out.get(w.name()).sum(3);
        assertTrue(sums.equalsWithEps(Nd4j.ones(DataType.DOUBLE, 1, 2, 5), 1e-12), sums.toString());
        assertTrue(out.get(a1.name()).equalsWithEps(out.get(ref.name()), 1e-12));
        INDArray manual = out.get(w.name()).get(org.nd4j.linalg.indexing.NDArrayIndex.point(0)).get(
                org.nd4j.linalg.indexing.NDArrayIndex.point(1)).mmul(v2.getArr().get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(1)));
        assertTrue(out.get(a2.name()).get(org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.point(1))
                .equalsWithEps(manual, 1e-12));
    }
}
