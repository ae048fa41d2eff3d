package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Rotary position embedding in the HF "rotate_half" convention, with an optional partial rotary width.
 *
 * <p>References: HF transformers 4.44.1 {@code LlamaRotaryEmbedding} / {@code apply_rotary_pos_emb} (full width), and SongBloom's DiT
 * ({@code SongBloom/models/transformer.py} L96-151, L189-212, after x-transformers), which rotates only the first {@code rotaryDim} = 32
 * of its 64 head dims. With r = {@code rotaryDim}:
 * <pre>
 *   inv_freq[i] = 1 / base^(2i / r),  i = 0 .. r/2-1           (fp32, as torch computes it)
 *   freqs[t]    = pos[t] · inv_freq;  emb = cat(freqs, freqs)   [T, r]
 *   x'[..r]     = x[..r]·cos(emb) + rotate_half(x[..r])·sin(emb),   rotate_half(u) = cat(-u[r/2:], u[:r/2])
 *   x'[r..]     = x[r..]                                          (untouched)
 * </pre>
 *
 * <p>The tables are computed on the Java side in fp32 for the given absolute positions (prefix included), then cast to the graph type,
 * and enter the graph as placeholders (or constants, for fixed positions). They are padded to the full head width with cos = 1,
 * sin = 0, and {@code rotate_half} is a product with a constant signed permutation matrix R {@code [dh, dh]} whose rows and columns
 * past r are zero. So the whole rotation is {@code x·cos + (x·R)·sin}: six ops whatever the width, one mmul instead of slices,
 * negation and concatenation, and the untouched dims come out exactly as they went in ({@code x·1 + 0}).
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final int rotaryDim;
    private final double base;
    private final float[] invFreq;   // [rotaryDim / 2]

    public RotaryEmbedding(int headDim, int rotaryDim, double base) {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > headDim) {
            throw new IllegalArgumentException("rotary width must be even and in (0, headDim=" + headDim + "], got " + rotaryDim);
        }
        if (!(base > 0)) throw new IllegalArgumentException("rotary base must be positive, got " + base);
        this.headDim = headDim;
        this.rotaryDim = rotaryDim;
        this.base = base;
        this.invFreq = new float[rotaryDim / 2];
        float fBase = (float) base;
        for (int i = 0; i < invFreq.length; i++) {
            // torch: 1.0 / (base ** (arange(0, r, 2).float() / r)), every step in fp32
            float exponent = (float) (2 * i) / (float) rotaryDim;
            float pow = (float) Math.pow(fBase, exponent);
            invFreq[i] = 1.0f / pow;
        }
    }

    /** Rotates the whole head (Llama). */
    public static RotaryEmbedding full(int headDim, double base) { return new RotaryEmbedding(headDim, headDim, base); }

    public int headDim() { return headDim; }

    public int rotaryDim() { return rotaryDim; }

    public double base() { return base; }

    /** The fp32 inverse frequencies {@code [rotaryDim / 2]}. */
    public float[] invFreq() { return invFreq.clone(); }

    /** cos and sin tables {@code [1, T, 1, headDim]} for positions {@code start .. start+length-1}. */
    public INDArray[] tables(long start, int length, DataType dtype) {
        long[] pos = new long[length];
        for (int t = 0; t < length; t++) pos[t] = start + t;
        return tables(pos, dtype);
    }

    /** cos and sin tables {@code [1, T, 1, headDim]} for arbitrary absolute positions. */
    public INDArray[] tables(long[] positions, DataType dtype) {
        int n = positions.length;
        int half = rotaryDim / 2;
        float[] cos = new float[n * headDim];
        float[] sin = new float[n * headDim];
        for (int t = 0; t < n; t++) {
            if (positions[t] < 0 || positions[t] > (1L << 24)) {
                throw new IllegalArgumentException("position " + positions[t] + " outside [0, 2^24] (not exact in fp32)");
            }
            float p = positions[t];
            int row = t * headDim;
            for (int i = 0; i < half; i++) {
                float f = p * invFreq[i];                  // fp32 product, as torch's fp32 matmul of [r/2,1]x[1,T]
                float c = (float) Math.cos(f);
                float s = (float) Math.sin(f);
                cos[row + i] = c;
                cos[row + half + i] = c;                   // emb = cat(freqs, freqs)
                sin[row + i] = s;
                sin[row + half + i] = s;
            }
            for (int j = rotaryDim; j < headDim; j++) cos[row + j] = 1f;   // sin stays 0: dims past r pass through
        }
        long[] shape = {1, n, 1, headDim};
        return new INDArray[] {Nd4j.create(cos, shape, 'c').castTo(dtype), Nd4j.create(sin, shape, 'c').castTo(dtype)};
    }

    /**
     * The signed permutation R {@code [headDim, headDim]} with {@code u·R = rotate_half(u)} on the first r dims and 0 past them:
     * column j < r/2 takes −u[j + r/2], column r/2 ≤ j < r takes u[j − r/2].
     */
    public INDArray rotateHalfMatrix(DataType dtype) {
        int half = rotaryDim / 2;
        double[] m = new double[headDim * headDim];
        for (int j = 0; j < half; j++) m[(j + half) * headDim + j] = -1;
        for (int j = half; j < rotaryDim; j++) m[(j - half) * headDim + j] = 1;
        return Nd4j.create(m, new long[] {headDim, headDim}, 'c').castTo(dtype);
    }

    /** Placeholders {@code <name>.cos}, {@code <name>.sin} {@code [1, -1, 1, dh]}, fed per call with {@link #feed}. */
    public Tables placeholders(SameDiff sd, String name, DataType dtype) {
        return new Tables(this, sd.placeHolder(name + ".cos", dtype, 1, -1, 1, headDim),
                sd.placeHolder(name + ".sin", dtype, 1, -1, 1, headDim), rotateHalf(sd, name, dtype));
    }

    /** Constant tables for positions {@code start .. start+length-1} (a bidirectional model of fixed length, such as the DiT). */
    public Tables constants(SameDiff sd, String name, long start, int length, DataType dtype) {
        INDArray[] cs = tables(start, length, dtype);
        return new Tables(this, sd.constant(name + ".cos", cs[0]), sd.constant(name + ".sin", cs[1]), rotateHalf(sd, name, dtype));
    }

    private SDVariable rotateHalf(SameDiff sd, String name, DataType dtype) {
        return sd.constant(name + ".rotate_half", rotateHalfMatrix(dtype));
    }

    /** Placeholder values for {@code tables} at positions {@code start .. start+length-1}, in the tables' dtype. */
    public Map<String, INDArray> feed(Tables tables, long start, int length) {
        INDArray[] cs = tables(start, length, tables.cos().dataType());
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put(tables.cos().name(), cs[0]);
        m.put(tables.sin().name(), cs[1]);
        return m;
    }

    /**
     * The graph side of one rotary embedding: cos and sin {@code [1, T, 1, dh]} (or {@code [B, T, 1, dh]} for per-sequence positions)
     * and the constant rotate_half matrix {@code [dh, dh]}. One instance serves every layer of a graph and both q and k.
     */
    public static final class Tables {
        private final RotaryEmbedding rope;
        private final SDVariable cos;
        private final SDVariable sin;
        private final SDVariable rotateHalf;
        private final Map<String, SDVariable[]> fused = new HashMap<>();

        Tables(RotaryEmbedding rope, SDVariable cos, SDVariable sin, SDVariable rotateHalf) {
            this.rope = rope;
            this.cos = cos;
            this.sin = sin;
            this.rotateHalf = rotateHalf;
        }

        public RotaryEmbedding rope() { return rope; }

        public SDVariable cos() { return cos; }

        public SDVariable sin() { return sin; }

        public SDVariable rotateHalf() { return rotateHalf; }

        /** Rotates rows {@code x [B·T, H·dh]} and returns them as heads {@code [B, T, H, dh]}: {@code x·cos + rotate_half(x)·sin}. */
        public SDVariable apply(SDVariable x, int heads, SeqShape seq) { return rotate(x, heads, seq, cos, sin); }

        /**
         * Fused projection rows {@code [B·T, (H + 2·Hkv)·dh]} laid out q | k | v, returned as heads {@code [B, T, H + 2·Hkv, dh]} with
         * q rotated and multiplied by {@code qScale}, k rotated and v untouched, in the same six ops as one rotation. The per-head
         * tables (cos·a + b, sin·a with a = qScale | 1 | 0 and b = 0 | 0 | 1 per head) are built once per graph and head layout.
         */
        public SDVariable applyFused(SDVariable qkv, int heads, int kvHeads, double qScale, SeqShape seq) {
            int all = heads + 2 * kvHeads;
            SDVariable[] cs = fused.computeIfAbsent(heads + "/" + kvHeads + "/" + qScale, k -> {
                double[] a = new double[all];
                double[] b = new double[all];
                for (int h = 0; h < all; h++) {
                    a[h] = h < heads ? qScale : h < heads + kvHeads ? 1 : 0;
                    b[h] = h < heads + kvHeads ? 0 : 1;
                }
                SameDiff sd = cos.getSameDiff();
                DataType dt = cos.dataType();
                SDVariable va = sd.constant(Nd4j.create(a, new long[] {1, 1, all, 1}, 'c').castTo(dt));
                SDVariable vb = sd.constant(Nd4j.create(b, new long[] {1, 1, all, 1}, 'c').castTo(dt));
                return new SDVariable[] {cos.mul(va).add(vb), sin.mul(va)};                       // [1, T, H + 2·Hkv, dh]
            });
            return rotate(qkv, all, seq, cs[0], cs[1]);
        }

        private SDVariable rotate(SDVariable x, int heads, SeqShape seq, SDVariable c, SDVariable s) {
            int dh = rope.headDim;
            SameDiff sd = x.getSameDiff();
            SDVariable x4 = seq.reshape(x, heads, dh);                                        // [B, T, H, dh]
            SDVariable rot = seq.reshape(sd.mmul(x.reshape(-1, dh), rotateHalf), heads, dh);  // [B·T·H, dh]·[dh, dh] -> [B, T, H, dh]
            return x4.mul(c).add(rot.mul(s));
        }
    }
}
