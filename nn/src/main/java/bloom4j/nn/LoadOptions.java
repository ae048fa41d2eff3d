package bloom4j.nn;

import org.nd4j.linalg.api.buffer.DataType;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * How a graph's parameters are created from a {@link ParamSource}.
 *
 * @param dtype       the graph's floating type: FLOAT for inference and training, DOUBLE for gradient checks. Every parameter is
 *                    converted to it, whatever its stored type.
 * @param trainable   which full keys become trainable {@code sd.var}s; all others are frozen {@code sd.constant}s.
 * @param missingInit if non-null, a key absent from the source is created by this rule (and recorded) instead of failing.
 * @param deferMissing if true, an absent key (with no rule) is recorded and stood in for by zeros, so that a model can list every
 *                    missing key at once through {@link Params#requireComplete}; if false it fails at the first one.
 * @param adapters    which linear layers get a LoRA/DoRA adapter ({@link LinearAdapters#NONE} by default).
 */
public record LoadOptions(DataType dtype, Predicate<String> trainable, Init missingInit, boolean deferMissing,
                          LinearAdapters adapters) {

    public LoadOptions {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(trainable, "trainable");
        Objects.requireNonNull(adapters, "adapters");
        if (!dtype.isFPType()) throw new IllegalArgumentException("graph dtype must be floating point, got " + dtype);
    }

    /** Without adapters. */
    public LoadOptions(DataType dtype, Predicate<String> trainable, Init missingInit, boolean deferMissing) {
        this(dtype, trainable, missingInit, deferMissing, LinearAdapters.NONE);
    }

    /** FLOAT, everything frozen, absent keys fail immediately, no adapters. */
    public static LoadOptions inference() { return new LoadOptions(DataType.FLOAT, k -> false, null, false); }

    public LoadOptions dtype(DataType t) { return new LoadOptions(t, trainable, missingInit, deferMissing, adapters); }

    public LoadOptions trainable(Predicate<String> p) { return new LoadOptions(dtype, p, missingInit, deferMissing, adapters); }

    /** Every parameter trainable: gradient checks and training from scratch. */
    public LoadOptions allTrainable() { return trainable(k -> true); }

    public LoadOptions initMissing(Init rule) { return new LoadOptions(dtype, trainable, rule, deferMissing, adapters); }

    public LoadOptions deferMissing(boolean defer) { return new LoadOptions(dtype, trainable, missingInit, defer, adapters); }

    /**
     * Wraps the linear layers {@code a} targets. Their adapter tensors are trainable exactly when {@code trainAdapters}; the rest
     * keeps this policy (frozen base weights, by default).
     */
    public LoadOptions adapters(LinearAdapters a, boolean trainAdapters) {
        Predicate<String> base = trainable;
        Predicate<String> p = trainAdapters ? k -> a.isAdapterKey(k) || base.test(k) : k -> !a.isAdapterKey(k) && base.test(k);
        return new LoadOptions(dtype, p, missingInit, deferMissing, a);
    }
}
