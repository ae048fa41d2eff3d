package bloom4j.nn.zipformer;

import bloom4j.nn.Activation;
import bloom4j.nn.Linear;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * One Zipformer stack (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py}): {@code Zipformer2Encoder} (L645-744)
 * at downsampling factor 1, otherwise {@code DownsampledZipformer2Encoder} (L807-870) around it:
 * <pre>
 *   ds &gt; 1:  y = SimpleDownsample(x)         right-pad by repeating the last frame to a multiple of ds, then Σ over each group of
 *                                            ds frames weighted by softmax(downsample.bias); mask[..., ::ds]
 *   e = time_emb.1(SwooshR(time))             per stack, [B, D] (FM decoder only)
 *   y = layers(y, pe(L), e)                   pe computed once from the stack's length L
 *   ds &gt; 1:  y = repeat each frame ds times, truncate to T;  out = out_combiner(x, y)
 * </pre>
 * Keys: {@code layers.j.*} and {@code time_emb.1.*} directly under the stack at factor 1, under {@code encoder.} otherwise, with
 * {@code downsample.bias [ds]} and {@code out_combiner.bypass_scale [D]}.
 */
public final class ZipformerEncoder {
    private final ZipformerDims dims;
    private final int downsample;
    private final List<ZipformerLayer> layers;
    private final Linear timeEmb;        // null without a time embedding
    private final SDVariable downsampleBias;   // [ds], null at factor 1
    private final Bypass outCombiner;    // null at factor 1

    private ZipformerEncoder(ZipformerDims dims, int downsample, List<ZipformerLayer> layers, Linear timeEmb, SDVariable downsampleBias,
                             Bypass outCombiner) {
        this.dims = dims;
        this.downsample = downsample;
        this.layers = layers;
        this.timeEmb = timeEmb;
        this.downsampleBias = downsampleBias;
        this.outCombiner = outCombiner;
    }

    /** A stack of {@code numLayers} layers at {@code downsample}; {@code timeEmbedDim} ≤ 0 builds none. */
    public static ZipformerEncoder load(Scope s, ZipformerDims dims, int numLayers, int downsample, int timeEmbedDim) {
        if (downsample < 1) throw new IllegalArgumentException("downsampling factor must be ≥ 1, got " + downsample);
        if (numLayers < 1) throw new IllegalArgumentException("a stack needs at least one layer, got " + numLayers);
        Scope enc = downsample == 1 ? s : s.pp("encoder");
        List<ZipformerLayer> layers = new ArrayList<>();
        for (int j = 0; j < numLayers; j++) layers.add(ZipformerLayer.load(enc.pp("layers").pp(j), dims));
        Linear te = timeEmbedDim > 0 ? Linear.load(enc.pp("time_emb.1"), timeEmbedDim, dims.dim(), true) : null;
        if (downsample == 1) return new ZipformerEncoder(dims, 1, layers, te, null, null);
        return new ZipformerEncoder(dims, downsample, layers, te, s.pp("downsample").param("bias", downsample),
                Bypass.load(s.pp("out_combiner"), dims.dim()));
    }

    /** Rows {@code [B·T, D]} at the full rate of {@code seq}; {@code time [B, timeEmbedDim]} or null. */
    public SDVariable forwardRows(SDVariable x, SDVariable time, ZipformerSeq seq) {
        if ((time == null) != (timeEmb == null)) {
            throw new IllegalArgumentException(timeEmb == null ? "this stack has no time embedding" : "this stack needs a time embedding");
        }
        if (downsample == 1) return layers(x, time, seq);
        SameDiff sd = x.getSameDiff();
        long b = seq.batch(), t = seq.length(), d = dims.dim(), ds = downsample;
        long lower = (t + ds - 1) / ds, pad = lower * ds - t;
        SDVariable x3 = x.reshape(b, t, d);
        if (pad > 0) {
            SDVariable last = x3.get(SDIndex.all(), SDIndex.interval(t - 1, t), SDIndex.all());       // [B, 1, D]
            SDVariable[] parts = new SDVariable[(int) pad + 1];
            parts[0] = x3;
            for (int i = 1; i <= pad; i++) parts[i] = last;
            x3 = sd.concat(1, parts);
        }
        SDVariable w = sd.nn.softmax(downsampleBias.reshape(1, ds), 1).reshape(1, 1, ds, 1);
        SDVariable low = x3.reshape(b, lower, ds, d).mul(w).sum(2).reshape(b * lower, d);               // [B·L, D]
        SDVariable mask = seq.padMask() == null ? null
                : sd.stridedSlice(seq.padMask(), new long[] {0, 0}, new long[] {b, t}, new long[] {1, ds});
        SDVariable y = layers(low, time, new ZipformerSeq(sd, b, lower, mask));
        SDVariable up = y.reshape(b, lower, 1, d).mul(sd.constant(Nd4j.ones(x.dataType(), 1, 1, ds, 1)))
                .reshape(b, lower * ds, d);
        if (pad > 0) up = up.get(SDIndex.all(), SDIndex.interval(0L, t), SDIndex.all());
        return outCombiner.forwardRows(x, up.reshape(b * t, d));
    }

    private SDVariable layers(SDVariable x, SDVariable time, ZipformerSeq seq) {
        SameDiff sd = x.getSameDiff();
        SDVariable pe = sd.constant(RelPositionalEncoding.table(seq.length(), dims.posDim(), x.dataType()));
        SDVariable e = time == null ? null : timeEmb.forwardRows(Activation.SWOOSH_R.apply(time));
        for (ZipformerLayer layer : layers) x = layer.forwardRows(x, pe, e, seq);
        return x;
    }

    public int downsample() { return downsample; }

    public int numLayers() { return layers.size(); }
}
