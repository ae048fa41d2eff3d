package bloom4j.models.llama;

import bloom4j.nn.Attention;
import bloom4j.nn.AttentionDims;
import bloom4j.nn.KvCache;
import bloom4j.nn.Linear;
import bloom4j.nn.PreNormBlock;
import bloom4j.nn.RmsNorm;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.SwiGluMlp;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;

/**
 * The single-token decode step of a {@link LlamaDecoder} as eager ND4J operations on the graph's own weight arrays: the fast path
 * of {@link LlamaGraph#decode}, checked against the graph (the plain path) by the tests.
 *
 * <p>Why: a decode step moves every weight once, so its floor is memory bandwidth; the matrix products already reach it through
 * BLAS, and what else costs is per-op overhead. SameDiff spends tens of µs per op plus its session bookkeeping (a Llama layer is
 * about 45 ops in the graph), an eager ND4J op a few µs, and this step needs about 25 per layer. Same arithmetic as the graph, op
 * for op: RMSNorm, the fused q|k|v product, rotate_half RoPE with the softmax scale folded into q's tables, the new key and value
 * written into the {@link KvCache} buffers, softmax attention over the cached positions (no copy of the past), the output product
 * and residual, RMSNorm, SwiGLU and residual; then the final norm.
 *
 * <p>Available for frozen weights with a fused q|k|v projection (every inference load); {@link #supports} says so.
 */
final class LlamaDecodeKernel {
    private final LlamaConfig config;
    private final List<Layer> layers;
    private final INDArray normWeight;   // [hidden]
    private final double eps;
    private final RotaryEmbedding rope;
    private final INDArray rotateHalf;   // [dh, dh]
    private final List<KvCache.Slot> slots;

    /** One layer's weight arrays (shared with the graph, never copied). */
    private record Layer(INDArray attnNorm, INDArray qkv, INDArray o, INDArray ffnNorm, INDArray gate, INDArray up, INDArray down) { }

    private LlamaDecodeKernel(LlamaConfig config, List<Layer> layers, INDArray normWeight, List<KvCache.Slot> slots) {
        this.config = config;
        this.layers = layers;
        this.normWeight = normWeight;
        this.eps = config.rmsNormEps();
        this.rope = config.rope();
        this.rotateHalf = rope.rotateHalfMatrix(DataType.FLOAT);
        this.slots = slots;
    }

    /** Whether every layer's weights are frozen FLOAT arrays with a fused q|k|v projection and no biases. */
    static boolean supports(LlamaDecoder d) {
        for (PreNormBlock b : d.layers()) {
            Linear qkv = b.attention().fusedProjection();
            if (qkv == null || qkv.bias() != null || b.attention().out().bias() != null) return false;
            if (!(b.ff() instanceof SwiGluMlp mlp) || mlp.gate().bias() != null || mlp.up().bias() != null || mlp.down().bias() != null) {
                return false;
            }
            if (!(b.attnNorm() instanceof RmsNorm) || !(b.ffNorm() instanceof RmsNorm)) return false;
            if (!frozenFloat(qkv.weight())) return false;
        }
        return frozenFloat(d.norm().weight());
    }

    private static boolean frozenFloat(SDVariable v) {
        return v.getArr() != null && v.dataType() == DataType.FLOAT
                && v.getVariableType() != org.nd4j.autodiff.samediff.VariableType.VARIABLE;
    }

    static LlamaDecodeKernel of(LlamaDecoder d, List<KvCache.Slot> slots) {
        List<Layer> layers = new ArrayList<>();
        for (PreNormBlock b : d.layers()) {
            Attention a = b.attention();
            SwiGluMlp mlp = (SwiGluMlp) b.ff();
            layers.add(new Layer(((RmsNorm) b.attnNorm()).weight().getArr(), a.fusedProjection().weight().getArr(),
                    a.out().weight().getArr(), ((RmsNorm) b.ffNorm()).weight().getArr(), mlp.gate().weight().getArr(),
                    mlp.up().weight().getArr(), mlp.down().weight().getArr()));
        }
        return new LlamaDecodeKernel(d.config(), List.copyOf(layers), d.norm().weight().getArr(), slots);
    }

    /**
     * One token per sequence: {@code x [B, hidden]} at position {@code cache.length()}; writes the new keys and values into the cache,
     * advances it by one and returns {@code last_hidden_state [B, hidden]}.
     */
    INDArray step(INDArray x, KvCache cache) {
        AttentionDims d = config.attentionDims();
        int b = (int) x.size(0), h = d.heads(), hkv = d.kvHeads(), dh = d.headDim(), all = h + 2 * hkv, g = d.groups();
        int pos = cache.length();
        cache.ensureCapacity(pos + 1);
        INDArray[] tables = headTables(pos, b, h, hkv, d.scale());              // cos, sin [B, H + 2·Hkv, dh]
        INDArrayIndex[] at = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(pos), NDArrayIndex.all()};
        INDArrayIndex[] upTo = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, pos + 1), NDArrayIndex.all()};
        x = x.castTo(DataType.FLOAT).dup('c');                                  // the residual stream, updated in place
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            KvCache.Slot slot = slots.get(i);
            // attention
            INDArray n1 = rmsNorm(x, l.attnNorm());
            INDArray qkv = n1.mmul(l.qkv().transpose()).reshape(b, all, dh);     // [B, H + 2·Hkv, dh]
            INDArray rot = qkv.reshape((long) b * all, dh).mmul(rotateHalf).reshape(b, all, dh);
            INDArray heads = qkv.muli(tables[0]).addi(rot.muli(tables[1]));      // q rotated and scaled, k rotated, v as is
            INDArray kBuf = cache.keyBuffer(slot), vBuf = cache.valueBuffer(slot);
            kBuf.get(at).assign(heads.get(NDArrayIndex.all(), NDArrayIndex.interval(h, h + hkv), NDArrayIndex.all()));
            vBuf.get(at).assign(heads.get(NDArrayIndex.all(), NDArrayIndex.interval(h + hkv, all), NDArrayIndex.all()));
            INDArray q = heads.get(NDArrayIndex.all(), NDArrayIndex.interval(0, h), NDArrayIndex.all()).dup('c')
                    .reshape(b, hkv, g, dh);                                     // head kv·g + j is query j of kv head kv
            INDArray scores = Nd4j.matmul(q, kBuf.get(upTo), null, false, true, false);     // [B, Hkv, g, pos + 1]
            INDArray probs = Nd4j.nn.softmax(scores, 3);
            INDArray o = Nd4j.matmul(probs, vBuf.get(upTo)).reshape(b, (long) h * dh);       // [B, H·dh]
            x.addi(o.mmul(l.o().transpose()));
            // feed-forward
            INDArray n2 = rmsNorm(x, l.ffnNorm());
            INDArray gate = Nd4j.nn.swish(n2.mmul(l.gate().transpose()));        // silu
            x.addi(gate.muli(n2.mmul(l.up().transpose())).mmul(l.down().transpose()));
        }
        cache.advance(1);
        return rmsNorm(x, normWeight);
    }

    /** {@code x · rsqrt(mean(x², row) + eps) · w} on rows {@code [B, hidden]}, in fp32 like the graph's RMSNorm. */
    private INDArray rmsNorm(INDArray x, INDArray w) {
        INDArray inv = Transforms.pow(x.mul(x).mean(1).addi(eps), -0.5, false);   // [B]
        return x.mulColumnVector(inv.reshape(x.size(0), 1)).muliRowVector(w);
    }

    /**
     * cos and sin tables for the fused heads at one position, {@code [B, H + 2·Hkv, dh]}: q heads get the rotation times the softmax
     * scale, k heads the rotation, v heads cos = 1 and sin = 0 (the graph's {@code RotaryEmbedding.Tables.applyFused}).
     */
    private INDArray[] headTables(long pos, int b, int h, int hkv, double scale) {
        INDArray[] cs = rope.tables(pos, 1, DataType.FLOAT);                   // [1, 1, 1, dh] each
        int dh = config.headDim(), all = h + 2 * hkv;
        float[] c = cs[0].reshape(dh).toFloatVector(), s = cs[1].reshape(dh).toFloatVector();
        float[] cos = new float[b * all * dh], sin = new float[b * all * dh];
        for (int r = 0; r < b * all; r++) {
            int head = r % all;
            float a = head < h ? (float) scale : head < h + hkv ? 1f : 0f;
            for (int j = 0; j < dh; j++) {
                cos[r * dh + j] = head < h + hkv ? c[j] * a : 1f;
                sin[r * dh + j] = s[j] * a;
            }
        }
        long[] shape = {b, all, dh};
        return new INDArray[] {Nd4j.create(cos, shape, 'c'), Nd4j.create(sin, shape, 'c')};
    }
}
