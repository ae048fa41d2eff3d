package bloom4j.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * How to create a parameter that the source does not hold: LoRA/DoRA adapters about to be trained, or every weight of a test model.
 * A rule is only ever applied when a caller asks for it ({@link Scope#param(String, Init, long...)} or
 * {@link LoadOptions#initMissing(Init)}), and every application is recorded in {@link Params#initialised()}.
 *
 * <p>Random rules are deterministic: the stream is seeded from the rule's seed and the full key, so a parameter gets the same values
 * whatever order layers are built in.
 */
public interface Init {

    /** A new array of {@code shape} and {@code dtype} for the parameter {@code key}. */
    INDArray create(String key, long[] shape, DataType dtype);

    /** A short description for reports ("normal(std=0.02, seed=1)"). */
    default String describe() { return getClass().getSimpleName(); }

    static Init zeros() { return named("zeros", (k, s, t) -> Nd4j.zeros(t, s)); }

    static Init ones() { return named("ones", (k, s, t) -> Nd4j.ones(t, s)); }

    static Init constant(double value) {
        return named("constant(" + value + ")", (k, s, t) -> Nd4j.zeros(t, s).addi(value));
    }

    /** Gaussian N(0, std²), as {@code nn.init.normal_} (Llama's initializer_range = 0.02). */
    static Init normal(double std, long seed) {
        return named("normal(std=" + std + ", seed=" + seed + ")", (k, s, t) -> {
            SplittableRandom r = rng(seed, k);
            return filled(s, t, () -> std * r.nextGaussian());
        });
    }

    /** Uniform on [-bound, bound). */
    static Init uniform(double bound, long seed) {
        return named("uniform(±" + bound + ", seed=" + seed + ")", (k, s, t) -> {
            SplittableRandom r = rng(seed, k);
            return filled(s, t, () -> bound * (2 * r.nextDouble() - 1));
        });
    }

    /**
     * {@code nn.init.kaiming_uniform_(w, a)} on a PyTorch {@code [out, in, ...]} weight: bound = sqrt(6 / ((1 + a²)·fan_in)),
     * fan_in = in · receptive field. With a = √5 this is nn.Linear's default and PEFT's lora_A initialisation.
     */
    static Init kaimingUniform(double a, long seed) {
        return named("kaiming_uniform(a=" + a + ", seed=" + seed + ")", (k, s, t) -> {
            if (s.length < 2) throw new ParameterException(k, "kaiming_uniform needs a weight of rank >= 2, got " + Arrays.toString(s));
            long fanIn = 1;
            for (int i = 1; i < s.length; i++) fanIn *= s[i];
            double bound = Math.sqrt(6.0 / ((1 + a * a) * fanIn));
            SplittableRandom r = rng(seed, k);
            return filled(s, t, () -> bound * (2 * r.nextDouble() - 1));
        });
    }

    /** Wraps a lambda with a description. */
    static Init named(String description, Init rule) {
        return new Init() {
            @Override public INDArray create(String key, long[] shape, DataType dtype) { return rule.create(key, shape, dtype); }
            @Override public String describe() { return description; }
            @Override public String toString() { return description; }
        };
    }

    private static SplittableRandom rng(long seed, String key) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ key.hashCode());
    }

    private static INDArray filled(long[] shape, DataType dtype, DoubleSupplier values) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        double[] v = new double[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = values.getAsDouble();
        return Nd4j.create(v, shape, 'c').castTo(dtype);
    }
}
