package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class PreNormBlockTest {
    /** GQA (4 heads over 2 kv heads) with rotary on half of each head. */
    static final TinyDecoder.Config ONE = new TinyDecoder.Config(8, 4, 2, 4, 2, 12, 1, 10000);

    @Test void matchesLoops() {
        Map<String, INDArray> weights = TinyDecoder.weights(ONE, 1, DataType.DOUBLE);
        TinyDecoder m = new TinyDecoder(ONE, ParamSource.of(weights), LoadOptions.inference().dtype(DataType.DOUBLE), -1, false);
        m.root.params().requireComplete(k -> false);
        assertTrue(m.root.params().variables().containsKey("model.layers.0.self_attn.q_proj+k_proj+v_proj.weight"),
                "frozen q/k/v are fused: " + m.root.params().variables().keySet());
        INDArray xv = Rand.normal(41, 2, 5, ONE.hidden());
        INDArray got = m.sd.output(m.feed(xv, 0, null), m.y.name()).get(m.y.name());

        String p = "model.layers.0.";
        java.util.function.Function<String, double[]> w = k -> Reference.of(weights.get(p + k));
        int n = 10, hd = ONE.hidden();
        double[] x = Reference.of(xv);
        double[] a = Reference.selfAttention(Reference.rmsNorm(x, hd, w.apply("input_layernorm.weight"), 1e-6), 2, 5, hd, 4, 2, 4, 2,
                10000, true, w.apply("self_attn.q_proj.weight"), w.apply("self_attn.k_proj.weight"), w.apply("self_attn.v_proj.weight"),
                w.apply("self_attn.o_proj.weight"));
        double[] h = x.clone();
        for (int i = 0; i < h.length; i++) h[i] += a[i];
        double[] f = Reference.swiglu(Reference.rmsNorm(h, hd, w.apply("post_attention_layernorm.weight"), 1e-6), n, hd, ONE.ffn(),
                w.apply("mlp.gate_proj.weight"), w.apply("mlp.up_proj.weight"), w.apply("mlp.down_proj.weight"));
        for (int i = 0; i < h.length; i++) h[i] += f[i];
        assertArrayEquals(h, Reference.of(got), 1e-12);
    }

    @Test void gradientCausalGqaPartialRotary() {
        TinyDecoder m = new TinyDecoder(ONE, ParamSource.of(TinyDecoder.weights(ONE, 2, DataType.DOUBLE)),
                LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable(), -1, false);
        assertEquals(9, m.root.params().trainable().size());
        GradientCheck.of(m.sd, m.y).feed(m.feed(Rand.normal(42, 2, 3, ONE.hidden()), 0, null)).inputs("x").maxPerArray(20).check();
    }

    /**
     * Two layers in float: prefill 6 tokens then 3 single-token steps equal the full recompute over 9 tokens within 1e-6 of the
     * largest output (the cached path sums the past and new attention terms separately, so the fp32 rounding differs).
     */
    @Test void twoLayerKvCacheDecodeEqualsFullRecompute() {
        TinyDecoder.Config cfg = new TinyDecoder.Config(32, 4, 2, 8, 4, 48, 2, 10000);
        TinyDecoder m = new TinyDecoder(cfg, ParamSource.of(TinyDecoder.weights(cfg, 3, DataType.FLOAT)), LoadOptions.inference(), 2, true);
        int n = 6, steps = 3;
        INDArray xs = Rand.normal(43, 2, n + steps, cfg.hidden()).castTo(DataType.FLOAT);
        INDArray want = m.step(xs, new KvCache(m.slots, 2, cfg.dims(), 16, DataType.FLOAT));

        KvCache cache = new KvCache(m.slots, 2, cfg.dims(), 16, DataType.FLOAT);
        List<INDArray> parts = new ArrayList<>();
        parts.add(m.step(xs.get(NDArrayIndex.all(), NDArrayIndex.interval(0, n), NDArrayIndex.all()).dup(), cache));
        for (int s = n; s < n + steps; s++) {
            parts.add(m.step(xs.get(NDArrayIndex.all(), NDArrayIndex.interval(s, s + 1), NDArrayIndex.all()).dup(), cache));
        }
        INDArray got = Nd4j.concat(1, parts.toArray(new INDArray[0]));
        double maxDiff = Transforms.abs(got.sub(want)).maxNumber().doubleValue();
        double scale = Transforms.abs(want).maxNumber().doubleValue();
        assertTrue(maxDiff < 1e-6 * scale, "max |incremental - full| = " + maxDiff + " for outputs up to " + scale);
        assertTrue(want.stdNumber().doubleValue() > 0.1, "the comparison is not vacuous");
    }
}
