package bloom4j.models.songbloom;

import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.io.TensorSource;

import java.io.IOException;
import java.util.Arrays;

/**
 * The sketch-token vocabulary of the AR model, derived from the checkpoint.
 *
 * <p>Counting, from upstream {@code MVSA_DiTAR.__init__} (tencent-ailab/SongBloom@ef78022, {@code songbloom_mvsa.py} L93-116, L167-174):
 * with the YAML value {@code num_pitch = P} the constructor sets {@code self.num_pitch = P + 1}; then
 * <ul>
 *   <li>codes (VQ codebook entries) are {@code 0 .. P-1} — {@link #numCodes()} = P (16384 released);</li>
 *   <li>EOS = {@code self.num_pitch - 1} = P (16384) — {@link #eos()};</li>
 *   <li>"special" (the ignored training target) = {@code self.num_pitch} = P + 1 (16385) — {@link #special()};</li>
 *   <li>{@code skeleton_classifier} has {@code self.num_pitch} = P + 1 outputs (codes + EOS) — {@link #classes()};</li>
 *   <li>{@code skeleton_emb} has {@code self.num_pitch + 1} = P + 2 rows (codes + EOS + special) — {@link #embeddingRows()}.</li>
 * </ul>
 * So {@code P = skeleton_emb rows - 2 = classifier outputs - 1}. The songbloom-generate fixture (YAML {@code num_pitch: 32})
 * confirms it: {@code num_classes 33, eos_id 32, special_id 33, skeleton_emb_rows 34}, classifier output width 33.
 *
 * <p>Validation never clamps: a token outside the vocabulary is an error that names both sizes and the fix.
 *
 * @param numCodes P, the number of sketch codes (YAML {@code num_pitch})
 */
public record SketchVocabulary(int numCodes) {

    /** YAML {@code num_pitch} of the released models (single-layer VQ codebook of 16384 codes). */
    public static final int RELEASED_NUM_CODES = 16384;

    public static final String EMBEDDING_KEY = "model.skeleton_emb.weight";
    public static final String CLASSIFIER_KEY = "model.skeleton_classifier.2.weight";

    public SketchVocabulary {
        if (numCodes < 1) throw new IllegalArgumentException("the sketch vocabulary needs at least one code, got numCodes=" + numCodes);
    }

    public static SketchVocabulary released() { return new SketchVocabulary(RELEASED_NUM_CODES); }

    /** From the row count of {@code skeleton_emb.weight} (P + 2). */
    public static SketchVocabulary fromEmbeddingRows(long rows) {
        if (rows < 3) {
            throw new IllegalArgumentException("skeleton_emb has " + rows + " rows; expected num_pitch + 2 (codes + EOS + special) >= 3");
        }
        return new SketchVocabulary(Math.toIntExact(rows - 2));
    }

    /**
     * Reads P from {@value #EMBEDDING_KEY} and, when present, checks {@value #CLASSIFIER_KEY} has P + 1 rows. Reads shapes only.
     */
    public static SketchVocabulary fromCheckpoint(TensorSource src) throws IOException {
        if (!src.contains(EMBEDDING_KEY)) {
            throw new SongBloomWeightException(src.description() + ": missing '" + EMBEDDING_KEY + "' [num_pitch + 2, dim]; "
                    + "is this a SongBloom checkpoint (keys 'model.*')?");
        }
        TensorInfo emb = src.info(EMBEDDING_KEY);
        long[] es = emb.shape();
        if (es.length != 2 || es[0] < 3) {
            throw new SongBloomWeightException(src.description() + ": '" + EMBEDDING_KEY + "' is " + Arrays.toString(es)
                    + ", expected [num_pitch + 2, dim]");
        }
        SketchVocabulary v = new SketchVocabulary(Math.toIntExact(es[0] - 2));
        if (src.contains(CLASSIFIER_KEY)) {
            long[] cs = src.info(CLASSIFIER_KEY).shape();
            if (cs.length != 2 || cs[0] != v.classes()) {
                throw new SongBloomWeightException(src.description() + ": '" + CLASSIFIER_KEY + "' is " + Arrays.toString(cs) + ", expected ["
                        + v.classes() + ", dim] (num_pitch + 1 = " + v.numCodes() + " codes + EOS, from '" + EMBEDDING_KEY + "' "
                        + Arrays.toString(es) + "): the two tables come from different models");
            }
        }
        return v;
    }

    /** End of song: P. A block containing it is discarded and generation stops. */
    public int eos() { return numCodes; }

    /** The ignored training target ("special"): P + 1. Never sampled (the classifier has no output for it). */
    public int special() { return numCodes + 1; }

    /** Outputs of {@code skeleton_classifier}: codes + EOS = P + 1. */
    public int classes() { return numCodes + 1; }

    /** Rows of {@code skeleton_emb}: codes + EOS + special = P + 2. */
    public int embeddingRows() { return numCodes + 2; }

    public boolean isCode(long id) { return id >= 0 && id < numCodes; }

    /**
     * Checks sketch tokens meant as model input (e.g. extracted from audio by a VQ codebook, or forced): each must be a code
     * {@code 0..P-1}, or EOS {@code P} when {@code allowEos} (training sequences are padded with EOS). Throws
     * {@link SketchTokenException} for the first offending token, naming the largest id seen so the codebook size can be told.
     */
    public void requireTokens(long[] tokens, boolean allowEos) {
        long limit = allowEos ? (long) numCodes + 1 : numCodes;
        long max = Long.MIN_VALUE;
        int firstBad = -1;
        for (int i = 0; i < tokens.length; i++) {
            max = Math.max(max, tokens[i]);
            if (firstBad < 0 && (tokens[i] < 0 || tokens[i] >= limit)) firstBad = i;
        }
        if (firstBad >= 0) throw outOfRange(tokens[firstBad], firstBad, max, allowEos);
    }

    /** {@link #requireTokens(long[], boolean)} for int ids. */
    public void requireTokens(int[] tokens, boolean allowEos) {
        requireTokens(Arrays.stream(tokens).asLongStream().toArray(), allowEos);
    }

    /**
     * Checks that a VQ codebook fits this model: its size must be exactly P, since the sketch embedding and classifier rows are
     * indexed by code.
     */
    public void requireCodebookSize(int codebookSize) {
        if (codebookSize != numCodes) {
            throw new SketchTokenException("the VQ codebook has " + codebookSize + " codes but the model's sketch vocabulary has "
                    + numCodes + " codes (+EOS " + eos() + "; skeleton_emb has " + embeddingRows() + " rows): retrain the codebook with "
                    + "--codebook-size " + numCodes + " or use a model trained for " + codebookSize + " codes");
        }
    }

    private SketchTokenException outOfRange(long token, int position, long max, boolean allowEos) {
        String vocab = "the model's sketch vocabulary of " + numCodes + " codes (ids 0.." + (numCodes - 1)
                + (allowEos ? ", plus EOS " + eos() : "; EOS " + eos() + " is not allowed here") + ")";
        if (token < 0) {
            return new SketchTokenException("sketch token " + token + " at position " + position + " is negative; it is outside " + vocab);
        }
        if (token == eos() && !allowEos) {
            return new SketchTokenException("sketch token " + token + " at position " + position + " is EOS, which is not a code: " + vocab
                    + "; strip EOS padding before passing sketches");
        }
        if (token == special() && max == special()) {
            return new SketchTokenException("sketch token " + token + " at position " + position + " is the training ignore label "
                    + "('special' = num_pitch + 1), not a token: " + vocab + "; replace ignore labels before passing sketches");
        }
        return new SketchTokenException("sketch token " + token + " at position " + position + " is outside " + vocab
                + ": the VQ codebook that made these sketches has at least " + (max + 1) + " codes (largest id " + max + "), the model "
                + "expects " + numCodes + "; retrain the codebook with --codebook-size " + numCodes + " or use a model trained for it");
    }
}
