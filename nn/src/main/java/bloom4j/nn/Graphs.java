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
     * largest call made, e.g. several 140 MB attention score arrays after an 851-token prefill). The next call allocates afresh.
     */
    public static void releaseWorkingMemory(SameDiff sd) {
        for (InferenceSession s : sd.getSessions().values()) {
            if (s.getMmgr() != null) s.getMmgr().close();
        }
    }
}
