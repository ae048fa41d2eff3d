package bloom4j.train.sketch;

import bloom4j.models.songbloom.SketchTokenException;
import bloom4j.models.songbloom.SketchVocabulary;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The sketch-vocabulary guard (issue 5): a codebook of K codes can be used with a
 * SongBloom model folder only if every id it can emit, 0..K−1, is one of the model's sketch codes 0..num_pitch−1, num_pitch being
 * read from the folder ({@code skeleton_emb} has num_pitch + 2 rows; the released model: 16384 codes, 16386 rows; the class default
 * 128 is not the released model). The check itself is {@link SketchVocabulary#requireTokens}, applied to the largest id K − 1.
 */
public final class SketchVocabularyGuard {
    private SketchVocabularyGuard() {}

    /** The model folder's sketch vocabulary, read from tensor shapes only. */
    public static SketchVocabulary read(Path modelFolder) throws IOException {
        try (TensorSource src = Checkpoints.open(modelFolder)) {
            return SketchVocabulary.fromCheckpoint(src);
        }
    }

    /** Fails, naming both sizes and the fix, when a codebook of {@code codebookSize} codes can emit ids the model does not have. */
    public static void requireFits(SketchVocabulary vocab, int codebookSize, Path modelFolder, String codebookName) {
        try {
            vocab.requireTokens(new long[] {codebookSize - 1L}, false);
        } catch (SketchTokenException e) {
            throw new SketchTokenException("codebook " + codebookName + " has " + codebookSize + " codes (ids 0.." + (codebookSize - 1)
                    + ") but the model in " + modelFolder + " has a sketch vocabulary of " + vocab.numCodes() + " codes (skeleton_emb "
                    + vocab.embeddingRows() + " rows = num_pitch + 2, EOS " + vocab.eos() + "): train the codebook with --codebook-size "
                    + vocab.numCodes() + " or less, or use a model whose num_pitch is at least " + codebookSize + " [" + e.getMessage() + "]");
        }
    }

    /**
     * Said whenever sketches from a bloom4j codebook meet a pretrained model: Tencent's sketch VQ is not released, so the ids of any
     * codebook trained here mean nothing to the pretrained {@code skeleton_emb} and {@code skeleton_classifier} rows.
     */
    public static String semanticsNote(String codebookSha) {
        return "note: codebook " + codebookSha.substring(0, 12) + "… was trained by bloom4j, not by Tencent (whose sketch VQ is not "
                + "released): its ids do not share the pretrained model's sketch semantics, so fine-tuning must train the skeleton_emb "
                + "and skeleton_classifier rows; expect the AR loss to start near ln K";
    }
}
