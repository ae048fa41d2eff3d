package bloom4j.tensor.cli;

import picocli.CommandLine.Option;

/**
 * {@code --threads N}, shared by every command that computes ({@code @Mixin ThreadsOption threads;}): the value given, else
 * {@code BLOOM4J_THREADS}, else all cores. How the threads are used (the inference split of {@code ComputeThreads}, or BLAS
 * alone) is the command's business.
 */
public final class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N", description = "compute threads (default: $BLOOM4J_THREADS, else all cores)")
    Integer threads;

    /** The thread count to use (>= 1). */
    public int resolve() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
            return threads;
        }
        String env = System.getenv("BLOOM4J_THREADS");
        if (env != null && !env.isBlank()) {
            try {
                int n = Integer.parseInt(env.trim());
                if (n >= 1) return n;
            } catch (NumberFormatException ignored) {
                // fall through to the error
            }
            throw new IllegalArgumentException("BLOOM4J_THREADS must be a whole number >= 1, got '" + env + "'");
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
