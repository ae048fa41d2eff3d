package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Batch size B and sequence length T of the activations in one graph, known as numbers when fixed at build time and otherwise as a
 * graph vector computed once.
 *
 * <p>Layers in {@code nn} carry activations as rows {@code [B·T, features]}, the shape every matmul wants (SameDiff's mmul does not
 * broadcast ranks). Only attention needs {@code [B, T, H, dh]}, and SameDiff cannot tell the shape of an intermediate at build time, so
 * the block reshapes through this object. Each distinct target shape costs one {@code concat} op per graph, shared by every layer; when
 * at most one of B and T is dynamic, reshapes use {@code -1} and cost nothing extra.
 */
public final class SeqShape {
    private final SameDiff sd;
    private final long batch;
    private final long time;
    private final SDVariable dims;   // int64 [2] = [B, T], present when either is dynamic
    private SDVariable batchDim;    // int64 [1] = [B]
    private final Map<String, SDVariable> shapes = new HashMap<>();

    private SeqShape(SameDiff sd, long batch, long time, SDVariable dims) {
        this.sd = sd;
        this.batch = batch;
        this.time = time;
        this.dims = dims;
    }

    /** Both sizes fixed at build time. */
    public static SeqShape fixed(SameDiff sd, long batch, long time) {
        if (batch <= 0 || time <= 0) throw new IllegalArgumentException("fixed sizes must be positive, got B=" + batch + " T=" + time);
        return new SeqShape(sd, batch, time, null);
    }

    /** Fixed batch, dynamic length (generation: B is known, prefill and decode lengths differ). Costs no ops. */
    public static SeqShape fixedBatch(SameDiff sd, long batch) {
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        return new SeqShape(sd, batch, -1, null);
    }

    /**
     * The sizes of {@code x}, of shape {@code [B, T, ...]}: taken from its declared shape where that is fixed (placeholders), otherwise
     * read at run time (two ops, once per graph).
     */
    public static SeqShape of(SDVariable x) {
        SameDiff sd = x.getSameDiff();
        long[] known = x.getShape();   // placeholders and parameters only; null for intermediates
        if (known != null && known.length >= 2 && known[0] > 0 && known[1] > 0) return fixed(sd, known[0], known[1]);
        if (known != null && known.length >= 2 && known[0] > 0) return fixedBatch(sd, known[0]);
        SDVariable bt = sd.shape(x).get(SDIndex.interval(0, 2)).castTo(DataType.INT64);
        return new SeqShape(sd, -1, -1, bt);
    }

    /** B, or -1 when dynamic. */
    public long batch() { return batch; }

    /** T, or -1 when dynamic. */
    public long time() { return time; }

    /** {@code x} reshaped to {@code [B, T, tail...]}; {@code x} must hold exactly that many elements. */
    public SDVariable reshape(SDVariable x, long... tail) {
        for (long d : tail) if (d <= 0) throw new IllegalArgumentException("tail dims must be positive: " + Arrays.toString(tail));
        if (batch > 0 || time > 0) return x.reshape(concat(new long[] {batch > 0 ? batch : -1, time > 0 ? time : -1}, tail));
        return sd.reshape(x, shape("bt", tail, () -> dims));
    }

    /** {@code x} reshaped to {@code [B, tail...]}, where {@code tail} may hold one -1. */
    public SDVariable reshapeBatch(SDVariable x, long... tail) {
        if (batch > 0) return x.reshape(concat(new long[] {batch}, tail));
        if (time > 0 && Arrays.stream(tail).noneMatch(d -> d == -1)) return x.reshape(concat(new long[] {-1}, tail));
        return sd.reshape(x, shape("b", tail, () -> {
            if (batchDim == null) batchDim = dims.get(SDIndex.interval(0, 1));
            return batchDim;
        }));
    }

    private SDVariable shape(String kind, long[] tail, java.util.function.Supplier<SDVariable> head) {
        return shapes.computeIfAbsent(kind + Arrays.toString(tail),
                k -> sd.concat(0, head.get(), sd.constant(Nd4j.createFromArray(tail))));
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
