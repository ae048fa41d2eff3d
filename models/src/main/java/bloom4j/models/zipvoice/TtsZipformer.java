package bloom4j.models.zipvoice;

import bloom4j.nn.Activation;
import bloom4j.nn.Linear;
import bloom4j.nn.Mlp;
import bloom4j.nn.Scope;
import bloom4j.nn.zipformer.ZipformerDims;
import bloom4j.nn.zipformer.ZipformerEncoder;
import bloom4j.nn.zipformer.ZipformerSeq;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * ZipVoice's {@code TTSZipformer} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L72-293), the FM decoder and
 * the text encoder, over sizes fixed at build time:
 * <pre>
 *   x = in_proj(x)                                                  [B·T, D]
 *   e = time_embed(sinusoid(t) [+ guidance_scale_embed(sinusoid(g))])   Linear(E→2E) · SwooshR · Linear(2E→E); FM decoder only
 *   x = stack_i(x, e, mask) for each stack                           each down-samples from the full rate and back (no skips)
 *   out_proj(x)                                                      [B, T, out]
 * </pre>
 * {@code sinusoid(t) = [cos(t·f_k), sin(t·f_k)]}, {@code f_k = exp(−ln(10000)·k/(E/2))}, t raw in [0, 1] (L47-69).
 */
public final class TtsZipformer {

    /** What the stack reads: {@code x} rows {@code [B·T, in]}, the pad mask {@code [B, T]} (1 = padded), t and g {@code [B]} or null. */
    public record Inputs(SDVariable x, SDVariable padMask, SDVariable t, SDVariable guidance) { }

    /** The output {@code [B, T, out]} and the activations parity compares (rows {@code [B·T, D]}). */
    public record Outputs(SDVariable out, SDVariable timeSinusoid, SDVariable timeEmbed, SDVariable inProj, List<SDVariable> stacks) { }

    /** The sizes of one TTSZipformer. */
    public record Shape(List<ZipformerDims> stackDims, int[] downsampling, int[] numLayers, int inDim, int outDim, int timeEmbedDim,
                        boolean guidance) {
        /** The FM decoder of {@code c}: in = 3·feat (x_t, text, speech), out = feat. */
        public static Shape fmDecoder(ZipVoiceConfig c) {
            List<ZipformerDims> dims = new ArrayList<>();
            for (int i = 0; i < c.stacks(); i++) dims.add(c.fmDims(i));
            return new Shape(dims, c.fmDownsampling(), c.fmNumLayers(), 3 * c.featDim(), c.featDim(), c.timeEmbedDim(), c.distill());
        }

        /** The text encoder of {@code c}: one stack at full rate, no time embedding. */
        public static Shape textEncoder(ZipVoiceConfig c) {
            return new Shape(List.of(c.textDims()), new int[] {1}, new int[] {c.textNumLayers()}, c.textEmbedDim(), c.featDim(), -1, false);
        }
    }

    private TtsZipformer() {}

    /** Builds the stacks under {@code s} ({@code fm_decoder} or {@code text_encoder}) for batch {@code b} and length {@code t}. */
    public static Outputs build(Scope s, Shape shape, long b, long t, Inputs in) {
        SameDiff sd = s.sd();
        long d = shape.stackDims().get(0).dim();
        SDVariable x = Linear.load(s.pp("in_proj"), shape.inDim(), d, true).forwardRows(in.x());
        SDVariable sinusoid = null, timeEmbed = null;
        if (shape.timeEmbedDim() > 0) {
            if (in.t() == null) throw new IllegalArgumentException(s.path() + " needs t");
            int e = shape.timeEmbedDim();
            sinusoid = sinusoid(in.t(), e, b);
            SDVariable emb = sinusoid;
            if (shape.guidance()) {
                if (in.guidance() == null) throw new IllegalArgumentException(s.path() + " (ZipVoice-Distill) needs a guidance scale");
                emb = emb.add(Linear.load(s.pp("guidance_scale_embed"), e, e, false).forwardRows(sinusoid(in.guidance(), e, b)));
            }
            timeEmbed = Mlp.load(s.pp("time_embed"), e, 2L * e, e, Activation.SWOOSH_R, "0", true, "2", true).forwardRows(emb);
        }
        ZipformerSeq seq = new ZipformerSeq(sd, b, t, in.padMask());
        SDVariable inProj = x;
        List<SDVariable> stacks = new ArrayList<>();
        for (int i = 0; i < shape.downsampling().length; i++) {
            ZipformerEncoder stack = ZipformerEncoder.load(s.pp("encoders").pp(i), shape.stackDims().get(i), shape.numLayers()[i],
                    shape.downsampling()[i], shape.timeEmbedDim());
            x = stack.forwardRows(x, timeEmbed, seq);
            stacks.add(x);
        }
        SDVariable out = Linear.load(s.pp("out_proj"), d, shape.outDim(), true).forwardRows(x).reshape(b, t, shape.outDim());
        return new Outputs(out, sinusoid, timeEmbed, inProj, stacks);
    }

    /** {@code timestep_embedding(t, dim)}: {@code [cos(t·f), sin(t·f)]} {@code [B, dim]} (dim even, as every ZipVoice config). */
    static SDVariable sinusoid(SDVariable t, int dim, long b) {
        if (dim % 2 != 0) throw new IllegalArgumentException("time_embed_dim must be even, got " + dim);
        SameDiff sd = t.getSameDiff();
        int half = dim / 2;
        float[] f = new float[half];
        float scale = (float) -Math.log(10000.0);
        for (int k = 0; k < half; k++) f[k] = (float) Math.exp(scale * (float) k / half);    // float32 as upstream's torch.exp
        SDVariable freqs = sd.constant(Nd4j.create(f, new long[] {1, half}, 'c').castTo(t.dataType() == DataType.DOUBLE ? DataType.DOUBLE
                : DataType.FLOAT));
        SDVariable args = t.reshape(b, 1).mul(freqs);
        return sd.concat(1, sd.math.cos(args), sd.math.sin(args));
    }
}
