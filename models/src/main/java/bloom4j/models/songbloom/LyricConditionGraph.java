package bloom4j.models.songbloom;

import bloom4j.nn.Embedding;
import bloom4j.nn.Scope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link LyricConditioner}'s computation as graph ops, for training the lyric embedding ({@code output_proj.weight}): row t of a
 * lyric is {@code (E[k] + E[special]) + S[sentence]} for t below its length and {@code blank_emb} after, {@code [B, maxLen, D]}.
 * With a trainable E the lookups are one-hot products ({@link Embedding}), which are exact (one non-zero term per sum), so the
 * condition equals the eager conditioner's bit for bit; the padding rows come from {@code valid·row + (1 − valid)·blank}, also exact.
 * Same keys as {@link LyricConditioner} under {@link LyricConditioner#SCOPE}.
 */
public final class LyricConditionGraph {
    private final LyricTokenizer tokenizer;
    private final int batch, maxLen;
    private final SDVariable token, special, sentence, valid;
    private final SDVariable output;
    private final SDVariable table;

    private LyricConditionGraph(Scope s, LyricVocabulary vocab, int maxSentencePerStructure, int dim, int batch, int maxLen) {
        this.tokenizer = new LyricTokenizer(vocab, maxSentencePerStructure);
        this.batch = batch;
        this.maxLen = maxLen;
        SameDiff sd = s.sd();
        DataType dt = s.dtype();
        String p = s.key("ids");
        token = sd.placeHolder(p + ".token", DataType.INT64, (long) batch * maxLen);
        special = sd.placeHolder(p + ".special", DataType.INT64, (long) batch * maxLen);
        sentence = sd.placeHolder(p + ".sentence", DataType.INT64, (long) batch * maxLen);
        valid = sd.placeHolder(p + ".valid", dt, (long) batch * maxLen, 1);
        Embedding e = Embedding.load(s.pp("output_proj"), vocab.size(), dim);
        Embedding se = Embedding.load(s.pp("sentence_idx_in_structure_emb"), maxSentencePerStructure, dim);
        SDVariable blank = s.param("blank_emb", 1, dim);
        table = e.weight();
        SDVariable rows = e.forwardRows(token).add(e.forwardRows(special)).add(se.forwardRows(sentence));   // [B·L, D]
        SDVariable padded = rows.mul(valid).add(valid.rsub(1.0).mul(blank));
        output = padded.reshape(batch, maxLen, dim);
    }

    /**
     * Builds the condition of {@code batch} lyrics over the tables under {@code lyricsScope} (the checkpoint's
     * {@link LyricConditioner#SCOPE}); whether {@code output_proj.weight} trains is the scope's {@link bloom4j.nn.LoadOptions} decision.
     */
    public static LyricConditionGraph build(Scope lyricsScope, LyricVocabulary vocab, int maxSentencePerStructure, int dim, int batch,
                                            int maxLen) {
        return new LyricConditionGraph(lyricsScope, vocab, maxSentencePerStructure, dim, batch, maxLen);
    }

    /** {@code [B, maxLen, D]}. */
    public SDVariable output() { return output; }

    /** {@code output_proj.weight [V, D]} as built (a VARIABLE when it trains). */
    public SDVariable table() { return table; }

    public LyricTokenizer tokenizer() { return tokenizer; }

    /** The ids of {@code lyrics} (one per row), truncated to {@code maxLen} as the conditioner does. */
    public Map<String, INDArray> feed(List<TokenizedLyrics> lyrics) {
        if (lyrics.size() != batch) throw new IllegalArgumentException("expected " + batch + " lyrics, got " + lyrics.size());
        int n = batch * maxLen;
        long[] k = new long[n], sp = new long[n], se = new long[n];
        float[] v = new float[n];
        for (int b = 0; b < batch; b++) {
            TokenizedLyrics l = lyrics.get(b);
            for (int t = 0; t < Math.min(l.length(), maxLen); t++) {
                int i = b * maxLen + t;
                k[i] = l.tokenId(t);
                sp[i] = l.specialId(t);
                se[i] = l.sentenceId(t);
                v[i] = 1f;
            }
        }
        Map<String, INDArray> f = new HashMap<>();
        f.put(token.name(), Nd4j.createFromArray(k));
        f.put(special.name(), Nd4j.createFromArray(sp));
        f.put(sentence.name(), Nd4j.createFromArray(se));
        f.put(valid.name(), Nd4j.create(v, new long[] {n, 1}, 'c').castTo(valid.dataType()));
        return f;
    }
}
