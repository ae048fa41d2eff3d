package bloom4j.models.songbloom;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Where the randomness of a multinomial draw comes from.
 *
 * <p>PyTorch's {@code torch.multinomial(p, 1)} (without replacement, or with one sample: the path SongBloom always takes, see
 * {@code aten/src/ATen/native/Distributions.cpp}, "fast path" since torch 1.7) draws {@code q = empty_like(p).exponential_(1)} — one
 * Exp(1) value per class, over the whole vocabulary, zero-probability classes included — and returns {@code argmax(p / q)}
 * (the Gumbel-max trick in exponential form). A draw is therefore one row of {@code C} Exp(1) values, which is what this interface
 * hands out; {@link SketchSampler#multinomial(float[], float[])} does the argmax.
 *
 * <p>Two implementations: {@link #seeded(long)} for normal use and {@link #replay} to feed draws recorded from a PyTorch run, so that
 * a Java run can reproduce a reference run token for token (bit-exact replication of torch's mt19937/Philox
 * streams is not attempted). Implementations need not be thread-safe; use one per generation.
 */
public interface NoiseSource {

    /** The next draw: {@code count} independent Exp(1) samples, all {@code > 0}. */
    float[] exponential(int count);

    /**
     * Exp(1) samples from a {@link SplittableRandom} with this seed: each value is {@code -ln(u)} with {@code u} the next
     * {@code nextDouble()} that is not 0, so {@code u} lies in (0, 1) and the value is finite and positive. A draw of {@code C}
     * values consumes at least {@code C} doubles. The same seed gives the same tokens on every JVM; the stream is not PyTorch's.
     */
    static NoiseSource seeded(long seed) { return new Seeded(seed); }

    /** Replays recorded draws, one row per multinomial call, in order. */
    static Replay replay(float[][] draws) { return new Replay(draws); }

    /**
     * Replays draws recorded as a tensor {@code [n, C]} or {@code [n, 1, C]} (one PyTorch {@code exponential_} result per
     * multinomial call, in call order).
     */
    static Replay replay(INDArray draws) {
        if (draws.rank() < 2) {
            throw new IllegalArgumentException("recorded multinomial noise must be [n, C] or [n, 1, C], got " + Arrays.toString(draws.shape()));
        }
        long n = draws.size(0);
        return new Replay(draws.castTo(DataType.FLOAT).reshape('c', n, draws.length() / Math.max(n, 1)).toFloatMatrix());
    }

    /** See {@link #seeded(long)}. */
    final class Seeded implements NoiseSource {
        private final SplittableRandom random;

        Seeded(long seed) { this.random = new SplittableRandom(seed); }

        @Override public float[] exponential(int count) {
            float[] q = new float[count];
            for (int i = 0; i < count; i++) {
                double u;
                do {
                    u = random.nextDouble();
                } while (u == 0.0);
                q[i] = (float) -Math.log(u);  // u < 1, so -ln(u) >= 1.1e-16: positive also after rounding to float
            }
            return q;
        }
    }

    /** Recorded draws, consumed in order; asking for more than were recorded, or for a different row length, is an error. */
    final class Replay implements NoiseSource {
        private final float[][] draws;
        private int next;

        Replay(float[][] draws) {
            this.draws = new float[draws.length][];
            for (int i = 0; i < draws.length; i++) {
                float[] row = draws[i].clone();
                for (int j = 0; j < row.length; j++) {
                    if (!(row[j] >= 0f) || Float.isInfinite(row[j])) {
                        throw new IllegalArgumentException("recorded Exp(1) draw " + i + " has invalid value " + row[j] + " at class " + j);
                    }
                }
                this.draws[i] = row;
            }
        }

        @Override public float[] exponential(int count) {
            if (next >= draws.length) {
                throw new IllegalStateException("recorded multinomial noise exhausted: all " + draws.length + " draws were used; the "
                        + "replayed run samples more tokens than the recorded one");
            }
            float[] row = draws[next];
            if (row.length != count) {
                throw new IllegalStateException("recorded multinomial draw " + next + " has " + row.length + " values but the sampler has "
                        + count + " classes: the noise was recorded for another sketch vocabulary");
            }
            next++;
            return row.clone();
        }

        /** Draws consumed so far. */
        public int used() { return next; }

        /** Draws not yet consumed. */
        public int remaining() { return draws.length - next; }
    }
}
