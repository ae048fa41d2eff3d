package bloom4j.nn;

import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How inference splits the CPU between ND4J's own kernels and its BLAS (OpenBLAS, which has its own thread pool).
 *
 * <p>Measured on this project's 2-core machine (SongBloom AR backbone, 1536 wide, batch 2, FP32): with both pools at 2 threads a
 * single-token decode step took 6-9× longer than with ND4J's kernels on one thread and OpenBLAS on two (4 layers at context 256:
 * 1090 ms against 92-116 ms), because the two pools' threads spin waiting for work on the same cores, and every one of the ~40 ops
 * of a layer is a fork/join. The prefill over 851 tokens was no slower with the split either (1.86 s against 2.12 s for 2 layers):
 * its time is in the matrix products, which BLAS runs. So bloom4j gives every thread to BLAS and runs the rest on one.
 *
 * <p>The knob that matters is libnd4j's "master" thread pool ({@code Environment.setMaxMasterThreads}), which runs its parallel
 * loops; in M2.1 {@code Environment.setMaxThreads} is a no-op (the OpenMP team keeps the size {@code OMP_NUM_THREADS} gave it at
 * start-up), so it is set here only for the record.
 *
 * <p>These are process-wide ND4J settings: commands apply them once at start; an application embedding bloom4j decides for itself.
 */
public final class ComputeThreads {
    private ComputeThreads() {}

    /** ND4J's own kernels on one thread, BLAS on {@code threads}. */
    public static void forInference(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /** One line for logs: the two pools and OpenBLAS's core type. */
    public static String describe() {
        Blas b = Nd4j.factory().blas();
        String core = System.getenv("OPENBLAS_CORETYPE");
        return "ND4J kernels " + Nd4j.getEnvironment().maxMasterThreads() + " thread(s), " + b.getBlasVendor() + " " + b.getMaxThreads()
                + " thread(s)" + (core == null ? "" : " (OPENBLAS_CORETYPE=" + core + ")");
    }
}
