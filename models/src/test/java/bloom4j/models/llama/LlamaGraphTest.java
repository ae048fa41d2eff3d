package bloom4j.models.llama;

import bloom4j.nn.Init;
import bloom4j.nn.KvCache;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LlamaGraphTest {

    static LlamaGraph tiny(SameDiff sd, long batch) {
        Scope root = Scope.root(sd, ParamSource.empty(), LoadOptions.inference().initMissing(Init.normal(0.3, 11)));
        return new LlamaGraph(root.pp("model"), LlamaConfig.tiny(), batch);
    }

    static double maxDiff(INDArray a, INDArray b) { return Transforms.abs(a.sub(b)).maxNumber().doubleValue(); }

    /**
     * Grouped-query attention (4 heads over 2), two layers: a prefill of 7 positions then 5 single-token steps through the cache equal
     * one pass over all 12, and {@code lastHidden} is each call's final position.
     */
    @Test
    void decodeWithTheCacheEqualsFullRecompute() {
        LlamaGraph g = tiny(SameDiff.create(), 2);
        int n = 12, pre = 7, d = g.config().hiddenSize();
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, n, d);
        String hidden = g.hidden().name(), last = g.lastHidden().name();
        INDArray full = g.run(x, g.newCache(n), hidden).get(hidden).reshape(2, n, d);

        KvCache cache = g.newCache(2);                                            // grows while prefilling
        List<INDArray> parts = new ArrayList<>();
        Map<String, INDArray> o = g.run(x.get(NDArrayIndex.all(), NDArrayIndex.interval(0, pre), NDArrayIndex.all()).dup(), cache, hidden,
                last);
        parts.add(o.get(hidden).reshape(2, pre, d));
        assertEquals(0.0, maxDiff(o.get(last), parts.get(0).get(NDArrayIndex.all(), NDArrayIndex.point(pre - 1), NDArrayIndex.all())));
        for (int t = pre; t < n; t++) {
            assertEquals(t, cache.length());
            o = g.run(x.get(NDArrayIndex.all(), NDArrayIndex.interval(t, t + 1), NDArrayIndex.all()).dup(), cache, hidden, last);
            parts.add(o.get(hidden).reshape(2, 1, d));
            assertEquals(0.0, maxDiff(o.get(last), o.get(hidden)));
        }
        INDArray inc = Nd4j.concat(1, parts.toArray(new INDArray[0]));
        double scale = Transforms.abs(full).maxNumber().doubleValue();
        assertTrue(maxDiff(inc, full) < 1e-6 * scale, "max |cached - full| " + maxDiff(inc, full) + " for outputs up to " + scale);
        assertTrue(full.stdNumber().doubleValue() > 0.1, "not vacuous");
    }

    /**
     * The eager decode kernel against the graph (the plain path), step by step from the same prefill: equal within 1e-6 of the
     * output scale, and both caches hold the same keys and values.
     */
    @Test
    void decodeKernelEqualsTheGraph() {
        LlamaGraph g = tiny(SameDiff.create(), 2);
        assertTrue(g.hasDecodeKernel());
        int pre = 5, d = g.config().hiddenSize();
        Nd4j.getRandom().setSeed(6);
        INDArray prefix = Nd4j.randn(DataType.FLOAT, 2, pre, d);
        KvCache fast = g.newCache(pre + 1), plain = g.newCache(pre + 1);        // both grow during the steps
        g.run(prefix, fast);
        g.run(prefix, plain);
        for (int t = 0; t < 6; t++) {
            INDArray x = Nd4j.randn(DataType.FLOAT, 2, d);
            INDArray a = g.decode(x, fast), b = g.decodeWithGraph(x, plain);
            assertArrayEquals(new long[] {2, d}, a.shape());
            double scale = Transforms.abs(b).maxNumber().doubleValue();
            assertTrue(maxDiff(a, b) < 1e-6 * scale, "step " + t + ": max |kernel - graph| " + maxDiff(a, b));
        }
        assertEquals(plain.length(), fast.length());
        assertEquals(pre + 6, fast.length());
        INDArray kf = fast.keyBuffer(g.slots().get(1)), kp = plain.keyBuffer(g.slots().get(1));
        INDArray used = kf.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, pre + 6), NDArrayIndex.all());
        double err = maxDiff(used, kp.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, pre + 6), NDArrayIndex.all()));
        assertTrue(err < 1e-5, "cached keys differ by " + err);
        assertThrows(IllegalArgumentException.class, () -> g.decode(Nd4j.zeros(DataType.FLOAT, 2, 2, d), fast));
    }

    /** Trainable weights keep the graph path (the kernel reads frozen arrays only). */
    @Test
    void trainableWeightsDecodeThroughTheGraph() {
        Scope root = Scope.root(SameDiff.create(), ParamSource.empty(),
                LoadOptions.inference().allTrainable().initMissing(Init.normal(0.3, 11)));
        assertFalse(new LlamaGraph(root.pp("model"), LlamaConfig.tiny(), 1).hasDecodeKernel());
    }

    @Test
    void inputsAreChecked() {
        LlamaGraph g = tiny(SameDiff.create(), 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> g.run(Nd4j.zeros(DataType.FLOAT, 1, 3, 16), g.newCache(4)));
        assertTrue(e.getMessage().contains("inputs_embeds must be [2, T >= 1, 16]"), e.getMessage());
    }

    @Test
    void configValidatesAndCounts() {
        assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(10, 20, 3, 3, 1, 1e4, 1e-6));
        assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(16, 20, 4, 3, 1, 1e4, 1e-6));
        assertThrows(IllegalArgumentException.class, () -> new LlamaConfig(16, 20, 4, 2, 1, 0, 1e-6));
        LlamaConfig c = LlamaConfig.tiny();
        assertEquals(4, c.headDim());
        // q, o 16x16; k, v 8x16; gate, up, down 40x16; two norms
        assertEquals(2 * 256 + 2 * 128 + 3 * 640 + 2 * 16, c.paramsPerLayer());
    }
}
