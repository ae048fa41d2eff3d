package bloom4j.models.songbloom;

import bloom4j.nn.Graphs;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;

/**
 * The lyric condition of SongBloom in mode {@code sum}: {@code PhonemeTokenizerConditioner.forward} + {@code pad_2d_tensor} in
 * upstream {@code SongBloom/models/musicgen/conditioners/text.py} (tencent-ailab/SongBloom@ef78022, L145-254).
 *
 * <p>Row {@code t} of the condition is {@code E[k] + E[special] + S[sentence]} (in that float32 addition order), with
 * {@code E = output_proj.weight [V, D]} (V = vocabulary size), {@code S = sentence_idx_in_structure_emb.weight [M, D]}; the ids
 * come from {@link LyricTokenizer}. The content term uses the raw token for every position, so tags and splits contribute
 * {@code 2·E[k]}. The result is padded to {@code maxLen} rows with {@code blank_emb [1, D]} or truncated to {@code maxLen}.
 * Padding rows {@code E[0]}, {@code S[0]} and {@code blank_emb} are zero in the release but are always read from the checkpoint.
 *
 * <p>Checkpoint keys (prefix {@value #PREFIX}): {@code output_proj.weight}, {@code sentence_idx_in_structure_emb.weight},
 * {@code blank_emb}. {@code M} (upstream {@code max_sentence_per_structure}, 50 released) is taken from the table's row count, which
 * also fixes the tokenizer's sentence-index cap {@code M - 1}. {@code maxLen} (600 for the 150 s models; check the 240 s config) is
 * configuration: it is not stored in the checkpoint. The tables are held as float32.
 */
public final class LyricConditioner {

    /** Scope of the lyric conditioner in the released {@code .pt}. */
    public static final String SCOPE = "model.condition_provider.conditioners.lyrics";

    /** Key prefix of the lyric conditioner in the released {@code .pt}. */
    public static final String PREFIX = SCOPE + ".";

    /** {@code max_len} of the released 150 s configuration. */
    public static final int RELEASED_MAX_LEN = 600;

    private final LyricTokenizer tokenizer;
    private final int maxLen;
    private final int dim;
    private final float[][] outputProj;                 // E [V, D]
    private final float[][] sentenceIdxInStructureEmb;  // S [M, D]
    private final float[] blankEmb;                     // [D]

    /**
     * @param vocab                     the lyric vocabulary; its size must equal the rows of {@code outputProj}
     * @param maxLen                    rows of the condition (pad/truncate target)
     * @param outputProj                {@code output_proj.weight} [V, D]
     * @param sentenceIdxInStructureEmb {@code sentence_idx_in_structure_emb.weight} [M, D]
     * @param blankEmb                  {@code blank_emb} [1, D]
     */
    public LyricConditioner(LyricVocabulary vocab, int maxLen, INDArray outputProj, INDArray sentenceIdxInStructureEmb,
                            INDArray blankEmb) {
        if (maxLen < 1) throw new IllegalArgumentException("lyrics maxLen must be >= 1, got " + maxLen);
        requireMatrix("output_proj.weight", outputProj);
        requireMatrix("sentence_idx_in_structure_emb.weight", sentenceIdxInStructureEmb);
        requireMatrix("blank_emb", blankEmb);
        long d = outputProj.size(1);
        if (outputProj.size(0) != vocab.size()) {
            throw new IllegalArgumentException("lyrics output_proj.weight has " + outputProj.size(0) + " rows but the lyric vocabulary has "
                    + vocab.size() + " entries: the checkpoint was trained with another vocab_g2p.yaml; use that vocabulary");
        }
        if (sentenceIdxInStructureEmb.size(0) < 1 || sentenceIdxInStructureEmb.size(1) != d) {
            throw new IllegalArgumentException("lyrics sentence_idx_in_structure_emb.weight is " + Arrays.toString(sentenceIdxInStructureEmb.shape())
                    + ", expected [M >= 1, " + d + "] (D from output_proj.weight)");
        }
        if (blankEmb.size(0) != 1 || blankEmb.size(1) != d) {
            throw new IllegalArgumentException("lyrics blank_emb is " + Arrays.toString(blankEmb.shape()) + ", expected [1, " + d + "]");
        }
        this.tokenizer = new LyricTokenizer(vocab, (int) sentenceIdxInStructureEmb.size(0));
        this.maxLen = maxLen;
        this.dim = Math.toIntExact(d);
        this.outputProj = outputProj.castTo(DataType.FLOAT).toFloatMatrix();
        this.sentenceIdxInStructureEmb = sentenceIdxInStructureEmb.castTo(DataType.FLOAT).toFloatMatrix();
        this.blankEmb = blankEmb.castTo(DataType.FLOAT).toFloatMatrix()[0];
    }

    private static void requireMatrix(String name, INDArray a) {
        if (a == null || a.rank() != 2) {
            throw new IllegalArgumentException("lyrics " + name + " must be a matrix, got " + (a == null ? "null" : Arrays.toString(a.shape())));
        }
    }

    /** Loads the three tables from a SongBloom checkpoint (keys under {@value #PREFIX}). */
    public static LyricConditioner load(TensorSource src, LyricVocabulary vocab, int maxLen) throws IOException {
        return load(Scope.root(Graphs.create(), src).pp(SCOPE), vocab, maxLen);
    }

    /**
     * Loads the three tables from {@code s}, the lyric conditioner's scope ({@value #SCOPE} in a SongBloom checkpoint); the keys count
     * as consumed. D comes from {@code output_proj.weight}, M from the sentence table.
     */
    public static LyricConditioner load(Scope s, LyricVocabulary vocab, int maxLen) throws SongBloomWeightException {
        long[] e = shape(s, "output_proj.weight", "[" + vocab.size() + ", D]");
        long[] st = shape(s, "sentence_idx_in_structure_emb.weight", "[max_sentence_per_structure, D]");
        long[] b = shape(s, "blank_emb", "[1, D]");
        if (e[0] != vocab.size() || st[1] != e[1] || b[0] != 1 || b[1] != e[1]) {
            throw new SongBloomWeightException(s.params().source().description() + ": lyric tables " + s.key("output_proj.weight") + " "
                    + Arrays.toString(e) + ", " + s.key("sentence_idx_in_structure_emb.weight") + " " + Arrays.toString(st) + ", "
                    + s.key("blank_emb") + " " + Arrays.toString(b) + " do not fit a vocabulary of " + vocab.size()
                    + " entries: expected [" + vocab.size() + ", D], [M, D], [1, D]"
                    + (e[0] != vocab.size() ? "; the checkpoint was trained with another vocab_g2p.yaml, use that vocabulary" : ""));
        }
        try {
            return new LyricConditioner(vocab, maxLen, s.array("output_proj.weight", vocab.size(), e[1]),
                    s.array("sentence_idx_in_structure_emb.weight", st[0], e[1]), s.array("blank_emb", 1, e[1]));
        } catch (IllegalArgumentException ex) {
            throw new SongBloomWeightException(s.params().source().description() + ": " + ex.getMessage());
        }
    }

    private static long[] shape(Scope s, String leaf, String expected) throws SongBloomWeightException {
        ParamSource src = s.params().source();
        String key = s.key(leaf);
        if (!src.contains(key)) {
            throw new SongBloomWeightException(src.description() + ": missing '" + key + "' " + expected
                    + "; is this a SongBloom checkpoint (keys 'model.*')?");
        }
        long[] shape = src.shape(key);
        if (shape.length != 2) {
            throw new SongBloomWeightException(src.description() + ": '" + key + "' is " + Arrays.toString(shape) + ", expected " + expected);
        }
        return shape;
    }

    /** The tokenizer whose sentence-index cap matches this checkpoint's table. */
    public LyricTokenizer tokenizer() { return tokenizer; }

    public int maxLen() { return maxLen; }

    /** Embedding width D. */
    public int dim() { return dim; }

    /** Rows of the sentence table (upstream {@code max_sentence_per_structure}). */
    public int maxSentencePerStructure() { return sentenceIdxInStructureEmb.length; }

    /** Tokenizes (see {@link LyricTokenizer#tokenize}) and embeds: {@code [maxLen, D]}. */
    public INDArray embed(String phonemes) { return embed(tokenizer.tokenize(phonemes)); }

    /** The condition of one tokenized lyric: {@code [maxLen, D]} float32. */
    public INDArray embed(TokenizedLyrics lyrics) {
        return Nd4j.create(embedRows(lyrics), new long[]{maxLen, dim}, 'c');
    }

    /**
     * The lyric half of the CFG batch, {@code [2, maxLen, D]}: row 0 the conditional lyric, row 1 the null lyric
     * ({@link LyricTokenizer#nullLyrics()}), the batch order used everywhere in generation.
     */
    public INDArray cfgBatch(TokenizedLyrics lyrics) { return batch(List.of(lyrics, tokenizer.nullLyrics())); }

    /** Several lyrics stacked: {@code [B, maxLen, D]}. */
    public INDArray batch(List<TokenizedLyrics> lyrics) {
        int rowSize = maxLen * dim;
        float[] out = new float[lyrics.size() * rowSize];
        for (int b = 0; b < lyrics.size(); b++) {
            System.arraycopy(embedRows(lyrics.get(b)), 0, out, b * rowSize, rowSize);
        }
        return Nd4j.create(out, new long[]{lyrics.size(), maxLen, dim}, 'c');
    }

    /**
     * The mask upstream computes beside the condition (1 for token rows, 0 for padding rows; {@code [maxLen]}). It is never used
     * downstream in SongBloom; kept for parity checks.
     */
    public float[] mask(TokenizedLyrics lyrics) {
        float[] m = new float[maxLen];
        Arrays.fill(m, 0, Math.min(lyrics.length(), maxLen), 1f);
        return m;
    }

    private float[] embedRows(TokenizedLyrics lyrics) {
        int n = Math.min(lyrics.length(), maxLen);  // longer lyrics are truncated to maxLen rows
        float[] out = new float[maxLen * dim];
        for (int t = 0; t < n; t++) {
            int k = lyrics.tokenId(t);
            int sp = lyrics.specialId(t);
            int se = lyrics.sentenceId(t);
            checkRow("token id", k, outputProj.length, t);
            checkRow("special id", sp, outputProj.length, t);
            checkRow("sentence index", se, sentenceIdxInStructureEmb.length, t);
            float[] ek = outputProj[k];
            float[] es = outputProj[sp];
            float[] ss = sentenceIdxInStructureEmb[se];
            int o = t * dim;
            for (int d = 0; d < dim; d++) out[o + d] = (ek[d] + es[d]) + ss[d];  // torch: content + structure + sentence
        }
        for (int t = n; t < maxLen; t++) System.arraycopy(blankEmb, 0, out, t * dim, dim);
        return out;
    }

    private static void checkRow(String what, int id, int rows, int position) {
        if (id < 0 || id >= rows) {
            throw new IllegalArgumentException(what + " " + id + " at lyric position " + position + " is outside the table of " + rows
                    + " rows; tokenize with this conditioner's tokenizer() so the ids match the checkpoint's tables");
        }
    }
}
