package bloom4j.nn;

import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * How inference splits the CPU between ND4J's own kernels and its BLAS (OpenBLAS, which has its own thread pool).
 *
 * <p>Measured on this project's 2-core machine, shared with other jobs (SongBloom AR backbone, 1536 wide, batch 2, FP32): with both
 * pools at 2 threads a single-token decode step took 6-9× longer than with ND4J's kernels on one thread and OpenBLAS on two (4 layers at context 256:
 * 1090 ms against 92-116 ms), because the two pools' threads spin waiting for work on the same cores, and every one of the ~40 ops
 * of a layer is a fork/join. The prefill over 851 tokens was no slower with the split either (1.86 s against 2.12 s for 2 layers):
 * its time is in the matrix products, which BLAS runs. So bloom4j gives every thread to BLAS and runs the rest on one.
 *
 * <p>libnd4j has two pools of its own: its "master" thread pool ({@code Environment.setMaxMasterThreads}) and OpenMP, whose team
 * size {@code Environment.setMaxThreads} does not change in M2.1 (a no-op); it is set through {@code NativeOps.setOmpNumThreads}.
 * Both go to one thread. The OpenMP part alone, measured once the machine was quiet (12 layers, context ~880, OpenBLAS on 2
 * threads): 268-271 ms per decode step with the OpenMP team at 2 (after an attention softmax its second thread spins, and the
 * next matrix product's OpenBLAS thread waits for the core: the 1536-wide output projection took 2.5 times as long), 222-226 ms
 * with it at 1. With OpenBLAS on 1 thread instead of 2, the step took 313 ms.
 *
 * <p>These are process-wide ND4J settings. Commands apply them once at start; model loaders that run inference
 * ({@code SongGenerator.load}) call {@link #ensureConfigured()}, which applies the same split over all cores unless the application
 * already chose with {@link #forInference}. OpenBLAS reads {@code OPENBLAS_CORETYPE} when its library loads, before any Java code
 * can set it: an application sets it in its environment as the launcher does ({@link #recommendedCoreType}); when it is unset on
 * a CPU that needs it, {@link #ensureConfigured()} logs a warning once.
 */
public final class ComputeThreads {
    private ComputeThreads() {}

    private static volatile boolean configured;
    private static boolean warned;

    /** ND4J's own kernels on one thread, BLAS on {@code threads}. */
    public static void forInference(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        configured = true;
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.getEnvironment().setMaxMasterThreads(1);
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        ops.setOmpNumThreads(1);
        Nd4j.factory().blas().setMaxThreads(threads);
    }

    /**
     * Applies {@link #forInference} over all cores unless the application already set the split itself; warns once (through
     * {@link System.Logger}) when {@code OPENBLAS_CORETYPE} is unset on a CPU whose kernel OpenBLAS 0.3.19 would not pick.
     */
    public static synchronized void ensureConfigured() {
        if (!configured) forInference(Runtime.getRuntime().availableProcessors());
        if (!warned && System.getenv("OPENBLAS_CORETYPE") == null) {
            warned = true;
            String core = recommendedCoreType(cpuFlags());
            if (core != null) {
                System.getLogger("bloom4j").log(System.Logger.Level.WARNING, "OPENBLAS_CORETYPE is not set: OpenBLAS may run a slow "
                        + "generic kernel on this CPU. Start the JVM with OPENBLAS_CORETYPE=" + core + " in its environment, as the "
                        + "bloom4j launcher does");
            }
        }
    }

    /**
     * The OpenBLAS kernel the launcher picks for a CPU with these {@code /proc/cpuinfo} flags: SkylakeX with AVX-512 (F, BW, VL),
     * Haswell with AVX2, else null (leave OpenBLAS's own choice).
     */
    public static String recommendedCoreType(String flags) {
        if (flags == null) return null;
        java.util.Set<String> f = java.util.Set.of(flags.trim().split("\\s+"));
        if (f.contains("avx512f") && f.contains("avx512bw") && f.contains("avx512vl")) return "SkylakeX";
        if (f.contains("avx2")) return "Haswell";
        return null;
    }

    private static String cpuFlags() {
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("flags")).findFirst().map(l -> l.substring(l.indexOf(':') + 1)).orElse(null);
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return null;
        }
    }

    /** One line for logs: the two pools and OpenBLAS's core type. */
    public static String describe() {
        Blas b = Nd4j.factory().blas();
        String core = System.getenv("OPENBLAS_CORETYPE");
        int omp = NativeOpsHolder.getInstance().getDeviceNativeOps().ompGetMaxThreads();
        return "ND4J kernels " + Nd4j.getEnvironment().maxMasterThreads() + " thread(s) (OpenMP " + omp + "), " + b.getBlasVendor() + " "
                + b.getMaxThreads() + " thread(s)" + (core == null ? "" : " (OPENBLAS_CORETYPE=" + core + ")");
    }
}
