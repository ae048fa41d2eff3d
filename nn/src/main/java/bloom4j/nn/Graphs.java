package bloom4j.nn;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.autodiff.samediff.internal.InferenceSession;

/**
 * SameDiff instances the way bloom4j uses them.
 *
 * <p>M2.1's default holders of constant and variable arrays ({@code ThreadSafeArrayHolder}) keep a second copy of every array for
 * the thread that uses it, so a model's weights took twice their size in memory (measured: four 37.7 MB constants added 295 MB of
 * RSS; the SongBloom AR backbone, 5.4 GB of fp32 weights, reached 14 GB and was killed by the OOM killer). bloom4j runs a graph from
 * one thread at a time, so {@link #create} installs the single-thread holders, which store the arrays as given.
 */
public final class Graphs {
    private Graphs() {}

    /** An empty graph whose constants and variables are stored once (use it from one thread at a time). */
    public static SameDiff create() {
        SameDiff sd = SameDiff.create();
        sd.setArrayHolders(new SingleThreadArrayHolder(), new SingleThreadArrayHolder(), false);
        return sd;
    }

    /**
     * Frees the arrays SameDiff's inference sessions keep for reuse between calls (its array cache holds the intermediates of the
     * largest call made, e.g. several 140 MB attention score arrays after an 851-token prefill), and those of its gradient function.
     * The next call allocates afresh. A model run as many graphs (training with per-layer recomputation) releases each graph after
     * using it, or every graph would keep a cache the size of its own forward and backward pass.
     */
    /**
     * After a gradient pass: frees the session caches ({@link #releaseWorkingMemory}) and asks the JVM to collect, which is how the
     * rest of that pass's native memory comes back. M2.1's backward ops also compute what nobody asked for (an {@code mmul_bp}
     * computes the gradient of a frozen weight too): those arrays have no consumer, so the session never releases them to its
     * cache; ND4J frees an array's native memory only when the garbage collector finalises its Java object, and a pass leaves
     * hundreds of megabytes of them behind a few kilobytes of Java heap, which the collector would not visit for many passes
     * (measured: +178 MB RSS per call on a 1536 × 6144 MLP; flat with a collection after each call). ND4J's deallocator thread
     * frees them while the next pass computes.
     */
    public static void releaseAfterGradients(SameDiff sd) {
        releaseWorkingMemory(sd);
        System.gc();
    }

    public static void releaseWorkingMemory(SameDiff sd) {
        for (InferenceSession s : sd.getSessions().values()) {
            if (s.getMmgr() != null) s.getMmgr().close();
        }
        sd.getSessions().clear();   // a session also holds every output of its last call until the next one; drop it
        SameDiff grad = sd.getFunction("grad");   // the backward pass runs in a graph of its own, with its own sessions
        if (grad != null && grad != sd) releaseWorkingMemory(grad);
    }
}
