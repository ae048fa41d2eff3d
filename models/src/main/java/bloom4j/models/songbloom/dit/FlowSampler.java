package bloom4j.models.songbloom.dit;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The rectified-flow Euler sampler SongBloom generates each block with: {@code sample_discrete_euler_with_temperature}
 * ({@code SongBloom/models/musicldm/inference/sampling.py} L51-83 at ef78022).
 *
 * <pre>
 *   t = linspace(σmax, 0, steps + 1)                          float32, torch's symmetric linspace
 *   x = noise if temperature ≥ σmax else zeros
 *   for (tc, tp) in zip(t[:-1], t[1:]):
 *       v = model(x, tc)
 *       if tc > temperature and tp ≤ temperature:  x = (1 − tp)·(x − v) + tp·noise     (re-noise once, from x̂0 = x − v)
 *       else:                                      x = x + (tp − tc)·v
 * </pre>
 * With the released {@code diff_temp = 0.95} and 36 steps the first call sees an all-zero input at t = 1 and the second re-noises
 * to t ≈ 0.944; with temperature ≥ σmax it is plain Euler from the noise. Arithmetic is float32 in upstream's order; the
 * comparisons are float32 like torch's 0-dim tensor against a Python float.
 */
public final class FlowSampler {
    public static final int DEFAULT_STEPS = 36;
    public static final double DEFAULT_TEMPERATURE = 0.95;

    /** The velocity model: {@code v = model(x, t)} for a batch {@code x} and the current time (CFG already applied). */
    @FunctionalInterface
    public interface Velocity {
        INDArray at(INDArray x, float t);
    }

    /** Called after each step with the x handed to the model, its t and the velocity returned (for parity and progress). */
    @FunctionalInterface
    public interface StepListener {
        void step(int index, INDArray x, float t, INDArray v);
    }

    private final int steps;
    private final float temperature;
    private final float sigmaMax;

    public FlowSampler(int steps, double temperature, double sigmaMax) {
        if (steps < 1) throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (!(sigmaMax > 0)) throw new IllegalArgumentException("sigma_max must be positive, got " + sigmaMax);
        this.steps = steps;
        this.temperature = (float) temperature;
        this.sigmaMax = (float) sigmaMax;
    }

    /** SongBloom's settings: 36 steps, diff_temp 0.95, σmax 1. */
    public static FlowSampler released() { return new FlowSampler(DEFAULT_STEPS, DEFAULT_TEMPERATURE, 1.0); }

    public int steps() { return steps; }

    /** The time grid {@code [steps + 1]}. */
    public float[] schedule() { return bloom4j.tensor.Floats.linspace(sigmaMax, 0f, steps + 1); }

    /** Draws the block noise {@code [shape]} from {@code noise} (upstream: one {@code randn} per block), then samples. */
    public INDArray sample(Velocity model, bloom4j.models.GaussianNoise noise, long[] shape, StepListener listener) {
        return sample(model, noise.next(shape), listener);
    }

    /** Samples from {@code noise} (FLOAT, any shape the model takes); {@code listener} may be null. */
    public INDArray sample(Velocity model, INDArray noise, StepListener listener) {
        INDArray n = noise.castTo(DataType.FLOAT);
        INDArray x = temperature >= sigmaMax ? n.dup() : Nd4j.zerosLike(n);
        float[] t = schedule();
        for (int k = 0; k < steps; k++) {
            float tc = t[k], tp = t[k + 1];
            float dt = tp - tc;
            INDArray v = model.at(x, tc).castTo(DataType.FLOAT);
            if (listener != null) listener.step(k, x.dup(), tc, v);
            if (tc > temperature && tp <= temperature) {
                x = x.sub(v).muli(1f - tp).addi(n.mul(tp));
            } else {
                x = x.add(v.mul(dt));
            }
        }
        return x;
    }
}
