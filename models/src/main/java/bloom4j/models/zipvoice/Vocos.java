package bloom4j.models.zipvoice;

import bloom4j.tensor.dsp.MelSpectrogram;
import bloom4j.tensor.io.TensorSource;
import org.jtransforms.fft.DoubleFFT_1D;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Vocos vocoder ZipVoice decodes with ({@code charactr/vocos-mel-24khz}; gemelo-ai/vocos@c859e3b {@code vocos/models.py}
 * L26-89, {@code modules.py} L8-60, {@code heads.py} L26-69, {@code spectral_ops.py}), inference only, computed eagerly with ND4J
 * arrays (it is frozen, and its time axis varies per call):
 * <pre>
 *   x = embed(features)                      Conv1d(100 → D, k 7, pad 3)            features [B, 100, T] log-mel
 *   x = LN(x)                                eps 1e-6, over channels
 *   per block: x = x + γ ⊙ pwconv2(GELU(pwconv1(LN(dwconv(x)))))     dwconv depthwise k 7 pad 3; GELU exact (erf)
 *   h = final LN(x);  [log|S|, φ] = Linear(D → 2·513)(h);  |S| = min(exp(log|S|), 100)
 *   audio = istft(|S|·(cos φ + i sin φ), n_fft 1024, hop 256, periodic Hann, center)   256·(T−1) samples
 * </pre>
 * Widths and depth come from the checkpoint ({@code backbone.*}, {@code head.out.*}, the plain state dict of
 * {@code pytorch_model.bin}).
 */
public final class Vocos {
    static final double LN_EPS = 1e-6;
    private final int dim, inter, layers, nFft, hop;
    private final Map<String, INDArray> w = new LinkedHashMap<>();
    private final float[] window;

    private Vocos(TensorSource src) throws IOException {
        for (String k : src.names()) w.put(k, src.load(k, DataType.FLOAT));
        INDArray embed = require("backbone.embed.weight", 3);
        dim = (int) embed.size(0);
        int n = 0;
        while (w.containsKey("backbone.convnext." + n + ".gamma")) n++;
        layers = n;
        inter = n == 0 ? 0 : (int) require("backbone.convnext.0.pwconv1.weight", 2).size(0);
        long out = require("head.out.weight", 2).size(0);
        nFft = (int) (out / 2 - 1) * 2;
        hop = VocosFbank.HOP;
        window = MelSpectrogram.hannPeriodic(nFft);
    }

    /** Loads the backbone and head from a Vocos state dict (the feature extractor's buffers are not needed to decode). */
    public static Vocos load(TensorSource src) throws IOException { return new Vocos(src); }

    /**
     * A Vocos folder: Hugging Face's layout ({@code pytorch_model.bin} + {@code config.yaml}, as {@code charactr/vocos-mel-24khz}
     * ships and upstream's {@code --vocoder-path} reads) or one {@code bloom4j convert --model vocos} wrote ({@code model.safetensors}).
     * When {@code config.yaml} is there, its backbone sizes must agree with the weights.
     */
    public static Vocos loadFolder(java.nio.file.Path dir) throws IOException {
        if (!java.nio.file.Files.isDirectory(dir)) throw new java.io.FileNotFoundException("Vocos folder " + dir + " does not exist");
        java.nio.file.Path st = dir.resolve("model.safetensors"), bin = dir.resolve("pytorch_model.bin");
        java.nio.file.Path file = java.nio.file.Files.isRegularFile(st) ? st : bin;
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new java.io.FileNotFoundException(dir + ": no pytorch_model.bin or model.safetensors (the Vocos weights)");
        }
        Vocos v;
        try (TensorSource src = bloom4j.tensor.io.Checkpoints.open(file)) {
            v = load(src);
        }
        java.nio.file.Path yaml = dir.resolve("config.yaml");
        if (java.nio.file.Files.isRegularFile(yaml)) {
            com.fasterxml.jackson.databind.JsonNode c = new com.fasterxml.jackson.databind.ObjectMapper(
                    new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml.toFile());
            com.fasterxml.jackson.databind.JsonNode b = c.path("backbone").path("init_args");
            check(yaml, "backbone.init_args.dim", b.path("dim"), v.dim);
            check(yaml, "backbone.init_args.intermediate_dim", b.path("intermediate_dim"), v.inter);
            check(yaml, "backbone.init_args.num_layers", b.path("num_layers"), v.layers);
            check(yaml, "head.init_args.n_fft", c.path("head").path("init_args").path("n_fft"), v.nFft);
            check(yaml, "head.init_args.hop_length", c.path("head").path("init_args").path("hop_length"), v.hop);
        }
        return v;
    }

    private static void check(java.nio.file.Path yaml, String field, com.fasterxml.jackson.databind.JsonNode node, int weights) {
        if (!node.isMissingNode() && node.asInt() != weights) {
            throw new IllegalArgumentException(yaml + ": " + field + " is " + node.asText() + " but the weights have " + weights
                    + ": the config does not belong to these weights");
        }
    }

    /** Output samples per feature frame. */
    public int hop() { return hop; }

    private INDArray require(String key, int rank) {
        INDArray a = w.get(key);
        if (a == null || a.rank() != rank) {
            throw new IllegalArgumentException("Vocos checkpoint: '" + key + "' is " + (a == null ? "missing" : "of rank " + a.rank())
                    + ", expected rank " + rank + "; is this a Vocos state dict (pytorch_model.bin of charactr/vocos-mel-24khz)?");
        }
        return a;
    }

    public int dim() { return dim; }

    public int layers() { return layers; }

    /** Every stage of one decode, for parity: embed and block outputs {@code [B, D, T]}, hidden {@code [B, T, D]}, head rows. */
    public record Trace(INDArray embed, List<INDArray> blocks, INDArray hidden, INDArray linear, INDArray mag, INDArray phase, INDArray audio) { }

    /** {@code Vocos.decode(features)}: log-mel {@code [B, 100, T]} → audio {@code [B, 256·(T−1)]}. */
    public INDArray decode(INDArray features) { return trace(features).audio(); }

    public Trace trace(INDArray features) {
        INDArray f = features.castTo(DataType.FLOAT);
        long b = f.size(0), t = f.size(2);
        INDArray x = conv(f.permute(0, 2, 1).dup('c'), w.get("backbone.embed.weight"), w.get("backbone.embed.bias"), 3);   // [B, T, D]
        INDArray embed = x.permute(0, 2, 1).dup('c');
        x = layerNorm(x, "backbone.norm");
        List<INDArray> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            String p = "backbone.convnext." + i + ".";
            INDArray y = depthwise(x, w.get(p + "dwconv.weight"), w.get(p + "dwconv.bias"));
            y = layerNorm(y, p + "norm");
            y = linear(y, p + "pwconv1");
            y = gelu(y);
            y = linear(y, p + "pwconv2");
            x = x.add(y.mul(w.get(p + "gamma").reshape(1, 1, dim)));
            blocks.add(x.permute(0, 2, 1).dup('c'));
        }
        INDArray hidden = layerNorm(x, "backbone.final_layer_norm");
        INDArray lin = linear(hidden, "head.out");                                                      // [B, T, 2·bins]
        int bins = nFft / 2 + 1;
        INDArray mag = Nd4j.math().exp(lin.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, bins)).dup('c'));
        mag = Nd4j.math().clipByValue(mag, -Float.MAX_VALUE, 100.0);
        INDArray phase = lin.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(bins, 2L * bins)).dup('c');
        INDArray audio = istft(mag, phase);
        return new Trace(embed, blocks, hidden, lin, mag.permute(0, 2, 1).dup('c'), phase.permute(0, 2, 1).dup('c'), audio);
    }

    /** Conv1d over time on channel-last rows: x {@code [B, T, Cin]}, w {@code [Cout, Cin, K]}, zero padding → {@code [B, T, Cout]}. */
    static INDArray conv(INDArray x, INDArray weight, INDArray bias, int pad) {
        long b = x.size(0), t = x.size(1), cin = x.size(2), cout = weight.size(0);
        int k = (int) weight.size(2);
        INDArray out = Nd4j.zeros(DataType.FLOAT, b, t, cout);
        for (int j = 0; j < k; j++) {
            INDArray wj = weight.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(j)).dup('c');                            // [Cout, Cin]
            int shift = j - pad;                                                                          // out[t] += x[t + shift]·wj
            long from = Math.max(0, -shift), to = Math.min(t, t - shift);
            if (to <= from) continue;
            for (int r = 0; r < b; r++) {
                INDArray xs = x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(r),
                        org.nd4j.linalg.indexing.NDArrayIndex.interval(from + shift, to + shift), org.nd4j.linalg.indexing.NDArrayIndex.all());
                out.get(org.nd4j.linalg.indexing.NDArrayIndex.point(r), org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to),
                        org.nd4j.linalg.indexing.NDArrayIndex.all()).addi(xs.mmul(wj.transpose()));
            }
        }
        return out.addi(bias.reshape(1, 1, cout));
    }

    /** Depthwise Conv1d (groups = channels), k 7, pad 3, on {@code [B, T, C]}; weight {@code [C, 1, K]}. */
    static INDArray depthwise(INDArray x, INDArray weight, INDArray bias) {
        long b = x.size(0), t = x.size(1), c = x.size(2);
        int k = (int) weight.size(2), pad = k / 2;
        float[] xv = x.dup('c').data().asFloat(), wv = weight.dup('c').data().asFloat(), bv = bias.dup('c').data().asFloat();
        float[] out = new float[xv.length];
        for (int r = 0; r < b; r++) {
            for (int tt = 0; tt < t; tt++) {
                for (int ch = 0; ch < c; ch++) {
                    float s = 0f;
                    for (int j = 0; j < k; j++) {
                        long src = tt + j - pad;
                        if (src < 0 || src >= t) continue;
                        s += xv[(int) ((r * t + src) * c + ch)] * wv[ch * k + j];
                    }
                    out[(int) ((r * t + tt) * c + ch)] = s + bv[ch];
                }
            }
        }
        return Nd4j.create(out, new long[] {b, t, c}, 'c');
    }

    private INDArray layerNorm(INDArray x, String p) {
        INDArray mean = x.mean(true, 2);
        INDArray xc = x.sub(mean);
        INDArray var = xc.mul(xc).mean(true, 2);
        INDArray y = xc.div(Nd4j.math().sqrt(var.add(LN_EPS)));
        return y.mul(w.get(p + ".weight").reshape(1, 1, -1)).add(w.get(p + ".bias").reshape(1, 1, -1));
    }

    private INDArray linear(INDArray x, String p) {
        INDArray wt = w.get(p + ".weight");                                                             // [out, in]
        long b = x.size(0), t = x.size(1);
        INDArray rows = x.dup('c').reshape(b * t, x.size(2)).mmul(wt.transpose()).addiRowVector(w.get(p + ".bias"));
        return rows.reshape(b, t, wt.size(0));
    }

    static INDArray gelu(INDArray x) {
        INDArray e = Nd4j.exec(new Erf(x.mul(1 / Math.sqrt(2))));
        return x.mul(e.add(1)).mul(0.5);
    }

    /**
     * {@code torch.istft(mag·e^{iφ}, n_fft, hop, win n_fft, periodic Hann, center=True)}: per frame the inverse real FFT (1/n),
     * windowed and overlap-added, divided by the overlapped squared window, then {@code n_fft/2} trimmed at both ends.
     * mag and phase {@code [B, T, bins]} → {@code [B, hop·(T−1)]}.
     */
    INDArray istft(INDArray mag, INDArray phase) {
        int b = (int) mag.size(0), t = (int) mag.size(1), bins = nFft / 2 + 1;
        float[] m = mag.dup('c').data().asFloat(), ph = phase.dup('c').data().asFloat();
        int full = nFft + hop * (t - 1), pad = nFft / 2, len = hop * (t - 1);
        float[] out = new float[b * len];
        DoubleFFT_1D fft = new DoubleFFT_1D(nFft);
        double[] env = new double[full];
        for (int f = 0; f < t; f++) for (int i = 0; i < nFft; i++) env[f * hop + i] += (double) window[i] * window[i];
        double[] buf = new double[nFft];
        for (int r = 0; r < b; r++) {
            double[] acc = new double[full];
            for (int f = 0; f < t; f++) {
                int o = (r * t + f) * bins;
                buf[0] = m[o] * Math.cos(ph[o]);
                buf[1] = m[o + bins - 1] * Math.cos(ph[o + bins - 1]);
                for (int k = 1; k < bins - 1; k++) {
                    buf[2 * k] = m[o + k] * Math.cos(ph[o + k]);
                    buf[2 * k + 1] = m[o + k] * Math.sin(ph[o + k]);
                }
                fft.realInverse(buf, true);
                for (int i = 0; i < nFft; i++) acc[f * hop + i] += buf[i] * window[i];
            }
            for (int i = 0; i < len; i++) out[r * len + i] = (float) (acc[i + pad] / env[i + pad]);
        }
        return Nd4j.create(out, new long[] {b, len}, 'c');
    }
}
