package bloom4j.nn.zipformer;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Zipformer's {@code CompactRelPositionalEncoding} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py} L938-1056):
 * a parameter-free table over relative offsets {@code −(L−1) … L−1}, row {@code j} for offset {@code j − (L − 1)}.
 *
 * <pre>
 *   c  = √E;  x_c = c·sign(x)·(ln(|x| + c) − ln c);  a = atan(x_c / (E / 2π))
 *   pe[2k] = cos(a·(k+1)),  pe[2k+1] = sin(a·(k+1)),  pe[E−1] = 1 ("for bias")
 * </pre>
 * Computed in double and rounded once (upstream computes in float32: within an ulp). Its training-time dropout is not applied here.
 */
public final class RelPositionalEncoding {
    private RelPositionalEncoding() {}

    /** The table {@code [2L − 1, dim]} for a sequence of length {@code length}. */
    public static INDArray table(long length, int dim, DataType dtype) {
        if (dim % 2 != 0) throw new IllegalArgumentException("positional encoding dim must be even, got " + dim);
        int rows = Math.toIntExact(2 * length - 1);
        double c = Math.sqrt(dim), lengthScale = dim / (2 * Math.PI);
        double[] pe = new double[rows * dim];
        for (int j = 0; j < rows; j++) {
            double x = j - (length - 1);
            double xc = c * Math.signum(x) * (Math.log(Math.abs(x) + c) - Math.log(c));
            double a = Math.atan(xc / lengthScale);
            for (int k = 0; k < dim / 2; k++) {
                pe[j * dim + 2 * k] = Math.cos(a * (k + 1));
                pe[j * dim + 2 * k + 1] = Math.sin(a * (k + 1));
            }
            pe[j * dim + dim - 1] = 1.0;
        }
        return Nd4j.create(pe, new long[] {rows, dim}, 'c').castTo(dtype);
    }
}
