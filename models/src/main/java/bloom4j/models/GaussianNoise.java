package bloom4j.models;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Where the standard-normal draws of a model come from (PyTorch's {@code randn}/{@code randn_like}): the VAE bottleneck's
 * sampled latent, the flow sampler's per-block noise. Seeded for normal use, or replaying draws recorded from a PyTorch run so
 * that a Java run reproduces it (torch's generator streams are not replicated).
 */
public interface GaussianNoise {

    /** A FLOAT array of the given shape filled with N(0, 1) draws. */
    INDArray next(long... shape);

    /** Box–Muller over a {@link SplittableRandom}: the same seed gives the same draws on every JVM (not torch's stream). */
    static GaussianNoise seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return shape -> {
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i += 2) {
                double u1;
                do {
                    u1 = r.nextDouble();
                } while (u1 == 0.0);
                double rad = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * r.nextDouble();
                v[i] = (float) (rad * Math.cos(th));
                if (i + 1 < v.length) v[i + 1] = (float) (rad * Math.sin(th));
            }
            return Nd4j.create(v, shape, 'c');
        };
    }

    /**
     * Hands out the given arrays in order; each request must ask for exactly the next array's shape (the error says which
     * draw and both shapes).
     */
    static GaussianNoise replay(List<INDArray> draws) {
        Deque<INDArray> queue = new ArrayDeque<>(draws);
        int total = draws.size();
        return shape -> {
            INDArray a = queue.poll();
            if (a == null) throw new IllegalStateException("recorded noise exhausted: all " + total + " draws were used");
            if (!Arrays.equals(a.shape(), shape)) {
                throw new IllegalStateException("recorded noise draw " + (total - queue.size()) + " has shape " + Arrays.toString(a.shape())
                        + " but " + Arrays.toString(shape) + " was asked for");
            }
            return a.castTo(DataType.FLOAT).dup('c');
        };
    }

    /** Zeros: the mean of the distribution (a deterministic VAE encode). */
    static GaussianNoise zeros() { return shape -> Nd4j.zeros(DataType.FLOAT, shape); }
}
