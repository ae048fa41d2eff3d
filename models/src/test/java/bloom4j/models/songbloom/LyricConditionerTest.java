package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LyricConditionerTest {

    /** Vocabulary '' , . a [verse] b  (ids 0..5). */
    private static final LyricVocabulary TINY = LyricVocabulary.of(List.of("", ",", ".", "a", "[verse]", "b"));

    /** E[k][d] = 10^d * k-ish values that keep sums exact: E[k] = (k, 100k), S[j] = (1000j, 10000j), blank = (-1, -2). */
    private static LyricConditioner tiny(int maxLen, int sentenceRows) {
        float[] e = new float[TINY.size() * 2];
        for (int k = 0; k < TINY.size(); k++) {
            e[2 * k] = k;
            e[2 * k + 1] = 100 * k;
        }
        float[] s = new float[sentenceRows * 2];
        for (int j = 0; j < sentenceRows; j++) {
            s[2 * j] = 1000 * j;
            s[2 * j + 1] = 10000 * j;
        }
        return new LyricConditioner(TINY, maxLen, Nd4j.create(e, new long[]{TINY.size(), 2}, 'c'),
                Nd4j.create(s, new long[]{sentenceRows, 2}, 'c'), Nd4j.create(new float[]{-1, -2}, new long[]{1, 2}, 'c'));
    }

    @Test
    void handComputedSumPaddingAndNullLyric() {
        LyricConditioner c = tiny(6, 3);
        assertEquals(3, c.maxSentencePerStructure());
        assertEquals(2, c.tokenizer().sentenceIndexCap());
        // a [verse] a . b , -> ids 3 4 3 2 5 1; special 0 4 4 2 4 1; sentence 1 0 1 0 2 0
        TokenizedLyrics t = c.tokenizer().tokenize("a [verse] a . b ,");
        assertArrayEquals(new int[]{3, 4, 3, 2, 5, 1}, t.tokenIds());
        float[][] out = c.embed(t).toFloatMatrix();
        assertArrayEquals(new float[]{3 + 0 + 1000, 300 + 0 + 10000}, out[0]);   // E3 + E0 + S1
        assertArrayEquals(new float[]{8, 800}, out[1]);                          // tag: 2*E4 + S0
        assertArrayEquals(new float[]{3 + 4 + 1000, 300 + 400 + 10000}, out[2]); // E3 + E4 + S1
        assertArrayEquals(new float[]{4, 400}, out[3]);                          // '.': 2*E2
        assertArrayEquals(new float[]{5 + 4 + 2000, 500 + 400 + 20000}, out[4]); // E5 + E4 + S2
        assertArrayEquals(new float[]{2, 200}, out[5]);                          // ',': 2*E1

        TokenizedLyrics shortOne = c.tokenizer().tokenize("b");
        float[][] padded = c.embed(shortOne).toFloatMatrix();
        assertArrayEquals(new float[]{5 + 1000, 500 + 10000}, padded[0]);
        for (int r = 1; r < 6; r++) assertArrayEquals(new float[]{-1, -2}, padded[r], "blank row " + r);
        assertArrayEquals(new float[]{1, 0, 0, 0, 0, 0}, c.mask(shortOne));

        // Null lyric: ids [0] -> E0 + E0 + S1, then blank rows.
        INDArray batch = c.cfgBatch(shortOne);
        assertArrayEquals(new long[]{2, 6, 2}, batch.shape());
        assertArrayEquals(new float[]{1000, 10000}, batch.get(org.nd4j.linalg.indexing.NDArrayIndex.point(1),
                org.nd4j.linalg.indexing.NDArrayIndex.point(0), org.nd4j.linalg.indexing.NDArrayIndex.all()).toFloatVector());
        assertArrayEquals(padded[0], batch.slice(0).toFloatMatrix()[0]);
    }

    @Test
    void truncatesToMaxLen() {
        LyricConditioner c = tiny(2, 3);
        TokenizedLyrics t = c.tokenizer().tokenize("a a a a");
        assertEquals(4, t.length());
        INDArray e = c.embed(t);
        assertArrayEquals(new long[]{2, 2}, e.shape());
        assertArrayEquals(new float[]{1, 1}, c.mask(t));
    }

    @Test
    void rejectsTablesThatDoNotFit() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new LyricConditioner(LyricVocabulary.released(), 4,
                Nd4j.zeros(6, 2), Nd4j.zeros(3, 2), Nd4j.zeros(1, 2)));
        assertTrue(ex.getMessage().contains("6 rows but the lyric vocabulary has 330"), ex.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LyricConditioner(TINY, 4, Nd4j.zeros(6, 2), Nd4j.zeros(3, 3), Nd4j.zeros(1, 2)));
        assertThrows(IllegalArgumentException.class, () -> new LyricConditioner(TINY, 4, Nd4j.zeros(6, 2), Nd4j.zeros(3, 2), Nd4j.zeros(2, 2)));
        // Ids from a tokenizer with a larger sentence cap than this checkpoint's table are refused, not clamped.
        LyricConditioner c = tiny(4, 2);
        TokenizedLyrics wide = new LyricTokenizer(TINY, 5).tokenize("a . a . a");
        IllegalArgumentException cap = assertThrows(IllegalArgumentException.class, () -> c.embed(wide));
        assertTrue(cap.getMessage().contains("sentence index 2"), cap.getMessage());
    }

    @Test
    void loadsTablesFromACheckpointAndReportsMissingKeys() throws Exception {
        InMemoryTensorSource src = new InMemoryTensorSource()
                .put(LyricConditioner.PREFIX + "output_proj.weight", new float[12], 6, 2)
                .put(LyricConditioner.PREFIX + "sentence_idx_in_structure_emb.weight", new float[8], 4, 2);
        SongBloomWeightException missing = assertThrows(SongBloomWeightException.class, () -> LyricConditioner.load(src, TINY, 5));
        assertTrue(missing.getMessage().contains("missing 'model.condition_provider.conditioners.lyrics.blank_emb' [1, D]"),
                missing.getMessage());
        src.put(LyricConditioner.PREFIX + "blank_emb", new float[]{7, 8}, 1, 2);
        LyricConditioner c = LyricConditioner.load(src, TINY, 5);
        assertEquals(4, c.maxSentencePerStructure());
        assertEquals(2, c.dim());
        assertArrayEquals(new float[]{7, 8}, c.embed("a").toFloatMatrix()[1]);
        src.put(LyricConditioner.PREFIX + "output_proj.weight", new float[14], 7, 2);
        assertThrows(SongBloomWeightException.class, () -> LyricConditioner.load(src, TINY, 5));
    }

    /** The fixture's embeddings, from its tables read under their release keys by the checkpoint reader; bit-exact. */
    @Test
    void matchesTheLyricsFixtureEmbeddings() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-lyrics"); TensorSource w = Checkpoints.open(f.checkpoint())) {
            JsonNode cfg = f.config().path("PhonemeTokenizerConditioner");
            int maxLen = cfg.get("max_len").asInt();
            LyricConditioner c = LyricConditioner.load(w, LyricVocabulary.released(), maxLen);
            assertEquals(cfg.get("max_sentence_per_structure").asInt(), c.maxSentencePerStructure());
            assertEquals(cfg.get("output_dim").asInt(), c.dim());
            List<TokenizedLyrics> all = new ArrayList<>();
            f.json().get("strings").forEach(n -> all.add(c.tokenizer().tokenize(n.asText())));
            INDArray got = c.batch(all);
            INDArray want = f.tensor("embeds");
            assertArrayEquals(want.shape(), got.shape());
            // Same float32 additions in the same order as torch: expected bit-exact.
            assertArrayEquals(want.reshape(-1).toFloatVector(), got.reshape(-1).toFloatVector());
            float[][] wantMask = f.tensor("mask").toFloatMatrix();
            for (int r = 0; r < all.size(); r++) assertArrayEquals(wantMask[r], c.mask(all.get(r)), "mask " + r);
        }
    }
}
