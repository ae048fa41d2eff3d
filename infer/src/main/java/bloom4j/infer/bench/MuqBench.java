package bloom4j.infer.bench;

import bloom4j.models.muq.MuqConfig;
import bloom4j.models.muq.MuqModel;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * MuQ inference throughput: waveform → last hidden state (front end, conv stem, 12 conformer layers) at the real
 * MuQ-large-msd-iter shapes, fp32, CPU backend, batch 1, in seconds of audio per second. Weights are random (speed does not depend
 * on them) unless a model is given. The PyTorch side is {@code infer/src/bench/python/bench_muq.py}, run at the same thread count.
 */
public final class MuqBench {
    private MuqBench() {}

    /** Timed runs of one configuration. */
    public record Run(double audioSeconds, long tokens, long parameters, List<Double> seconds) {
        public double best() { return seconds.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN); }

        public double audioPerSecond() { return audioSeconds / best(); }
    }

    /** A MuQ with random weights at {@code cfg}'s shapes, named as the released checkpoint. */
    public static MuqModel randomModel(MuqConfig cfg, long seed) throws IOException {
        Map<String, INDArray> w = randomWeights(cfg, seed);
        try (TensorSource src = SafeTensorsWriter.arrays(w)) {
            return MuqModel.load(src, cfg, MuqModel.Options.defaults());
        }
    }

    static Map<String, INDArray> randomWeights(MuqConfig c, long seed) {
        Random r = new Random(seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        int ch = c.convDim(), d = c.encoderDim(), f = c.intermediateSize();
        for (int b = 0; b < 2; b++) {
            String p = "model.conv.conv." + b + ".";
            int in = b == 0 ? 1 : ch;
            for (int k = 1; k <= 3; k++) {
                int i = k == 2 ? ch : in;
                w.put(p + "conv" + k + ".weight", weight(r, ch, i, 3, 3));
                w.put(p + "conv" + k + ".bias", Nd4j.zeros(DataType.FLOAT, ch));
                batchNorm(w, p + "bn" + k + ".", ch);
            }
        }
        w.put("model.conv.linear.weight", weight(r, d, c.stemFeatures()));
        w.put("model.conv.linear.bias", Nd4j.zeros(DataType.FLOAT, d));
        for (int l = 0; l < c.encoderDepth(); l++) {
            String p = "model.conformer.layers." + l + ".";
            for (String ffn : new String[] {"ffn1", "ffn2"}) {
                layerNorm(w, p + ffn + "_layer_norm.", d);
                w.put(p + ffn + ".intermediate_dense.weight", weight(r, f, d));
                w.put(p + ffn + ".intermediate_dense.bias", Nd4j.zeros(DataType.FLOAT, f));
                w.put(p + ffn + ".output_dense.weight", weight(r, d, f));
                w.put(p + ffn + ".output_dense.bias", Nd4j.zeros(DataType.FLOAT, d));
            }
            layerNorm(w, p + "self_attn_layer_norm.", d);
            for (String q : new String[] {"linear_q", "linear_k", "linear_v", "linear_out"}) {
                w.put(p + "self_attn." + q + ".weight", weight(r, d, d));
                w.put(p + "self_attn." + q + ".bias", Nd4j.zeros(DataType.FLOAT, d));
            }
            layerNorm(w, p + "conv_module.layer_norm.", d);
            w.put(p + "conv_module.pointwise_conv1.weight", weight(r, 2 * d, d, 1));
            w.put(p + "conv_module.depthwise_conv.weight", weight(r, d, 1, c.depthwiseKernel()));
            batchNorm(w, p + "conv_module.batch_norm.", d);
            w.put(p + "conv_module.pointwise_conv2.weight", weight(r, d, d, 1));
            layerNorm(w, p + "final_layer_norm.", d);
        }
        layerNorm(w, "model.conformer.layer_norm.", d);
        return w;
    }

    /** N(0, 1/fan_in) with fan_in the product of all but the first dim. */
    private static INDArray weight(Random r, long... shape) {
        long fanIn = 1;
        for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
        return Nd4j.randn(r.nextLong(), shape).castTo(DataType.FLOAT).divi(Math.sqrt(fanIn));
    }

    private static void layerNorm(Map<String, INDArray> w, String p, int d) {
        w.put(p + "weight", Nd4j.ones(DataType.FLOAT, d));
        w.put(p + "bias", Nd4j.zeros(DataType.FLOAT, d));
    }

    private static void batchNorm(Map<String, INDArray> w, String p, int d) {
        layerNorm(w, p, d);
        w.put(p + "running_mean", Nd4j.zeros(DataType.FLOAT, d));
        w.put(p + "running_var", Nd4j.ones(DataType.FLOAT, d));
    }

    /** Parameters the model uses: 316,343,296 for MuQ-large. */
    public static long parameters(MuqConfig c) {
        int ch = c.convDim(), d = c.encoderDim(), f = c.intermediateSize();
        long stem = 0;
        for (int b = 0; b < 2; b++) {
            int in = b == 0 ? 1 : ch;
            stem += (long) ch * in * 9 * 2 + (long) ch * ch * 9 + 3L * ch + 3L * 4 * ch;   // convs + biases + BN (incl. running stats)
        }
        stem -= 2L * 3 * 2 * ch;                                                               // running stats are buffers, not parameters
        stem += (long) d * c.stemFeatures() + d;
        long layer = 2L * (2L * d + (long) f * d + f + (long) d * f + d) + 2L * d + 4L * ((long) d * d + d) + 2L * d
                + 2L * d * d + (long) d * c.depthwiseKernel() + 2L * d + (long) d * d + 2L * d;
        return stem + layer * c.encoderDepth() + 2L * d;
    }

    /** One warm-up, then {@code repeat} timed encodes of {@code seconds} of noise at 24 kHz. */
    public static Run run(MuqModel m, double seconds, int repeat, long seed) {
        Random r = new Random(seed);
        float[] x = new float[(int) Math.round(seconds * 24_000)];
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.1 * r.nextGaussian());
        int layer = m.config().encoderDepth();
        m.encode(x, layer);
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < repeat; i++) {
            long t0 = System.nanoTime();
            m.encode(x, layer);
            times.add((System.nanoTime() - t0) / 1e9);
        }
        return new Run(seconds, m.tokens(x.length), parameters(m.config()), times);
    }
}
