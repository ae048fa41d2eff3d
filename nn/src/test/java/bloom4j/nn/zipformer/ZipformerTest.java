package bloom4j.nn.zipformer;

import bloom4j.nn.GradientCheck;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Rand;
import bloom4j.nn.Reference;
import bloom4j.nn.Scope;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Zipformer stacks (layers with every sub-module, down/up-sampling, time embedding, key padding) against {@link ZipformerReference},
 * and their gradients by central differences in double precision.
 */
class ZipformerTest {
    static final ZipformerDims DIMS = new ZipformerDims(8, 6, 2, 3, 2, 2, 8, 3);
    static final int TIME = 5;

    /** Random weights for a stack of {@code layers} at factor {@code ds} under {@code p}. */
    static Map<String, INDArray> weights(String p, int layers, int ds, boolean time, long seed) {
        Map<String, INDArray> w = new LinkedHashMap<>();
        String enc = ds == 1 ? p : p + ".encoder";
        long d = DIMS.dim(), h = DIMS.heads();
        long[] s = {seed};
        java.util.function.BiConsumer<String, long[]> put = (k, shape) -> w.put(k, Rand.normal(s[0]++, 0.4, shape));
        for (int j = 0; j < layers; j++) {
            String l = enc + ".layers." + j;
            put.accept(l + ".self_attn_weights.in_proj.weight", new long[] {(2L * DIMS.queryHeadDim() + DIMS.posHeadDim()) * h, d});
            put.accept(l + ".self_attn_weights.in_proj.bias", new long[] {(2L * DIMS.queryHeadDim() + DIMS.posHeadDim()) * h});
            put.accept(l + ".self_attn_weights.linear_pos.weight", new long[] {DIMS.posHeadDim() * h, DIMS.posDim()});
            for (String a : new String[] {"self_attn1", "self_attn2"}) {
                put.accept(l + "." + a + ".in_proj.weight", new long[] {h * DIMS.valueHeadDim(), d});
                put.accept(l + "." + a + ".in_proj.bias", new long[] {h * DIMS.valueHeadDim()});
                put.accept(l + "." + a + ".out_proj.weight", new long[] {d, h * DIMS.valueHeadDim()});
                put.accept(l + "." + a + ".out_proj.bias", new long[] {d});
            }
            for (int f = 1; f <= 3; f++) {
                long hid = DIMS.feedforward(f);
                put.accept(l + ".feed_forward" + f + ".in_proj.weight", new long[] {hid, d});
                put.accept(l + ".feed_forward" + f + ".in_proj.bias", new long[] {hid});
                put.accept(l + ".feed_forward" + f + ".out_proj.weight", new long[] {d, hid});
                put.accept(l + ".feed_forward" + f + ".out_proj.bias", new long[] {d});
            }
            long hc = DIMS.nonlinHidden();
            put.accept(l + ".nonlin_attention.in_proj.weight", new long[] {3 * hc, d});
            put.accept(l + ".nonlin_attention.in_proj.bias", new long[] {3 * hc});
            put.accept(l + ".nonlin_attention.out_proj.weight", new long[] {d, hc});
            put.accept(l + ".nonlin_attention.out_proj.bias", new long[] {d});
            for (String c : new String[] {"conv_module1", "conv_module2"}) {
                put.accept(l + "." + c + ".in_proj.weight", new long[] {2 * d, d});
                put.accept(l + "." + c + ".in_proj.bias", new long[] {2 * d});
                put.accept(l + "." + c + ".depthwise_conv.weight", new long[] {d, 1, DIMS.kernel()});
                put.accept(l + "." + c + ".depthwise_conv.bias", new long[] {d});
                put.accept(l + "." + c + ".out_proj.weight", new long[] {d, d});
                put.accept(l + "." + c + ".out_proj.bias", new long[] {d});
            }
            w.put(l + ".bypass.bypass_scale", Rand.normal(s[0]++, 0.1, d).add(0.6));
            w.put(l + ".bypass_mid.bypass_scale", Rand.normal(s[0]++, 0.1, d).add(0.6));
            w.put(l + ".norm.bias", Rand.normal(s[0]++, 0.3, d));
            w.put(l + ".norm.log_scale", Nd4j.scalar(DataType.DOUBLE, 0.8));
        }
        if (time) {
            put.accept(enc + ".time_emb.1.weight", new long[] {d, TIME});
            put.accept(enc + ".time_emb.1.bias", new long[] {d});
        }
        if (ds > 1) {
            put.accept(p + ".downsample.bias", new long[] {ds});
            w.put(p + ".out_combiner.bypass_scale", Rand.normal(s[0]++, 0.1, d).add(0.5));
        }
        return w;
    }

    record Built(SameDiff sd, SDVariable out, Map<String, INDArray> feed) { }

    static Built build(Map<String, INDArray> w, int layers, int ds, int b, int t, boolean time, int[] valid, boolean trainable) {
        SameDiff sd = SameDiff.create();
        LoadOptions o = LoadOptions.inference().dtype(DataType.DOUBLE);
        Scope s = Scope.root(sd, ParamSource.of(w), trainable ? o.allTrainable() : o);
        ZipformerEncoder enc = ZipformerEncoder.load(s.pp("stack"), DIMS, layers, ds, time ? TIME : -1);
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, (long) b * t, DIMS.dim());
        SDVariable te = time ? sd.placeHolder("time", DataType.DOUBLE, b, TIME) : null;
        SDVariable mask = valid == null ? null : sd.placeHolder("mask", DataType.DOUBLE, b, t);
        SDVariable y = enc.forwardRows(x, te, new ZipformerSeq(sd, b, t, mask));
        Map<String, INDArray> feed = new LinkedHashMap<>();
        feed.put("x", Rand.normal(900 + ds, b * t, DIMS.dim()));
        if (time) feed.put("time", Rand.normal(901, b, TIME));
        if (valid != null) {
            INDArray m = Nd4j.zeros(DataType.DOUBLE, b, t);
            for (int i = 0; i < b; i++) for (int j = valid[i]; j < t; j++) m.putScalar(i, j, 1.0);
            feed.put("mask", m);
        }
        assertEquals(w.size(), s.params().consumed().size(), "every weight used");
        return new Built(sd, y, feed);
    }

    static void matchesReference(int layers, int ds, int b, int t, boolean time, int[] valid) {
        Map<String, INDArray> w = weights("stack", layers, ds, time, 100L * ds + layers);
        Built g = build(w, layers, ds, b, t, time, valid, false);
        INDArray got = g.sd().output(g.feed(), g.out().name()).get(g.out().name());
        double[][][] x = new double[b][t][];
        double[][] xs = g.feed().get("x").toDoubleMatrix();
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) x[i][j] = xs[i * t + j];
        boolean[][] pad = null;
        if (valid != null) {
            pad = new boolean[b][t];
            for (int i = 0; i < b; i++) for (int j = valid[i]; j < t; j++) pad[i][j] = true;
        }
        double[][][] want = new ZipformerReference(w, DIMS).stack("stack", layers, ds, x, time ? g.feed().get("time").toDoubleMatrix() : null, pad);
        double[] flat = new double[b * t * DIMS.dim()];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) System.arraycopy(want[i][j], 0, flat, (i * t + j) * DIMS.dim(), DIMS.dim());
        assertArrayEquals(flat, Reference.of(got), 1e-10, "ds=" + ds + " T=" + t);
    }

    @Test void fullRateStackWithPaddingMatchesLoops() { matchesReference(2, 1, 2, 6, false, new int[] {6, 4}); }

    @Test void downsampledStackWithTimeEmbeddingMatchesLoops() { matchesReference(1, 2, 2, 7, true, new int[] {7, 5}); }

    @Test void stackDownsampledToOneFrameMatchesLoops() { matchesReference(1, 4, 2, 3, true, null); }

    @Test void gradients() {
        Map<String, INDArray> w = weights("stack", 1, 2, true, 7);
        Built g = build(w, 1, 2, 2, 5, true, new int[] {5, 3}, true);
        GradientCheck.of(g.sd(), g.out()).feed(g.feed()).inputs("x", "time").check();
    }

    @Test void positionalEncodingMatchesUpstreamFormula() {
        INDArray pe = RelPositionalEncoding.table(3, 6, DataType.DOUBLE);
        assertArrayEquals(new long[] {5, 6}, pe.shape());
        // offset 0 (row L−1): atan(0) = 0, so cos = 1 and sin = 0, last column 1
        assertArrayEquals(new double[] {1, 0, 1, 0, 1, 1}, pe.getRow(2).toDoubleVector(), 1e-15);
        double c = Math.sqrt(6), a = Math.atan(c * (Math.log(2 + c) - Math.log(c)) / (6 / (2 * Math.PI)));   // offset +2
        assertEquals(Math.cos(a), pe.getDouble(4, 0), 1e-15);
        assertEquals(Math.sin(2 * a), pe.getDouble(4, 3), 1e-15);
        assertEquals(-Math.sin(a), pe.getDouble(0, 1), 1e-15);
    }
}
