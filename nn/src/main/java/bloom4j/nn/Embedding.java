package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;

/**
 * A lookup table, PyTorch {@code nn.Embedding}: row {@code ids[i]} of {@code weight [num, dim]} (key {@code weight}).
 * Input integer ids of any shape, output rows {@code [N, dim]} with N the number of ids in C order.
 *
 * <p>A frozen table uses {@code gather}, whose forward is fine; its backward is broken in M2.1, so a trainable
 * table is looked up as {@code oneHot(ids)·E} instead, an mmul whose gradient is exact. That costs N·num multiply-adds, acceptable for the
 * vocabularies trained here; a sparse scatter-add gradient would be the next step if it is not.
 */
public final class Embedding {
    private final SDVariable weight;   // [num, dim]
    private final long num;
    private final long dim;

    private Embedding(SDVariable weight, long num, long dim) {
        this.weight = weight;
        this.num = num;
        this.dim = dim;
    }

    public static Embedding load(Scope s, long num, long dim) {
        return new Embedding(s.param("weight", num, dim), num, dim);
    }

    /** A table made elsewhere (a parameter with a different key, such as SongBloom's {@code bos_token} rows). */
    public static Embedding of(SDVariable weight, long num, long dim) { return new Embedding(weight, num, dim); }

    /** {@code ids (integer, any shape) → [N, dim]}. Ids out of {@code [0, num)} give zero rows when trainable and fail when frozen. */
    public SDVariable forwardRows(SDVariable ids) {
        SameDiff sd = ids.getSameDiff();
        SDVariable flat = ids.reshape(-1);                                            // [N]
        if (weight.getVariableType() != VariableType.VARIABLE) return sd.gather(weight, flat, 0);
        SDVariable oneHot = sd.oneHot(flat, (int) num, -1, 1.0, 0.0, weight.dataType());   // [N, num]
        return sd.mmul(oneHot, weight);                                               // [N, dim]
    }

    /** {@code [num, dim]}. */
    public SDVariable weight() { return weight; }

    public long num() { return num; }

    public long dim() { return dim; }
}
