package bloom4j.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Additive attention masks built on the Java side and fed as placeholders: 0 where a query may attend, the most negative finite value
 * of fp32 elsewhere (HF 4.44.1 fills its causal mask with {@code torch.finfo(dtype).min}), so a masked score's softmax weight is exactly 0.
 */
public final class AttentionMask {
    private AttentionMask() {}

    /** The fill of masked entries. */
    public static final double MASKED = -Float.MAX_VALUE;

    /**
     * The causal mask {@code [T, past + T]} for T new queries at absolute positions {@code past .. past+T-1}: query i sees keys
     * {@code 0 .. past+i}. The prefix of a sequence is causal too (SongBloom's AR model does not attend bidirectionally to it).
     */
    public static INDArray causal(int length, int past, DataType dtype) {
        int s = past + length;
        double[] m = new double[length * s];
        for (int i = 0; i < length; i++) for (int j = past + i + 1; j < s; j++) m[i * s + j] = MASKED;
        return Nd4j.create(m, new long[] {length, s}, 'c').castTo(dtype);
    }
}
