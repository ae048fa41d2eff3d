package bloom4j.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/** Seeded Gaussian test arrays (DOUBLE), independent of ND4J's RNG. */
public final class Rand {
    private Rand() {}

    public static INDArray normal(long seed, double std, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long d : shape) n *= d;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = std * r.nextGaussian();
        return Nd4j.create(v, shape, 'c').castTo(DataType.DOUBLE);
    }

    public static INDArray normal(long seed, long... shape) { return normal(seed, 1.0, shape); }
}
