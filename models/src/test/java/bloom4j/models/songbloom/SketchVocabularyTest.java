package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SketchVocabularyTest {

    @Test
    void releasedCounting() {
        SketchVocabulary v = SketchVocabulary.released();
        assertEquals(16384, v.numCodes());
        assertEquals(16384, v.eos());
        assertEquals(16385, v.special());
        assertEquals(16385, v.classes());
        assertEquals(16386, v.embeddingRows());
        assertEquals(v, SketchVocabulary.fromEmbeddingRows(16386));
    }

    /** The generate fixture states YAML num_pitch 32 and the derived ids; its classifier output is 33 wide. */
    @Test
    void countingAgreesWithTheGenerateFixture() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-generate")) {
            JsonNode cfg = f.config();
            SketchVocabulary v = new SketchVocabulary(cfg.at("/MVSA_DiTAR/num_pitch").asInt());
            JsonNode derived = cfg.get("derived");
            assertEquals(derived.get("num_classes").asInt(), v.classes());
            assertEquals(derived.get("eos_id").asInt(), v.eos());
            assertEquals(derived.get("special_id").asInt(), v.special());
            assertEquals(derived.get("skeleton_emb_rows").asInt(), v.embeddingRows());
            assertEquals(v, SketchVocabulary.fromEmbeddingRows(derived.get("skeleton_emb_rows").asInt()));
            long[] logits = f.tensor("step_classifier_out").shape();
            assertEquals(v.classes(), logits[logits.length - 1]);
        }
    }

    @Test
    void readsTheCheckpointShapes() throws Exception {
        InMemoryTensorSource src = new InMemoryTensorSource()
                .put(SketchVocabulary.EMBEDDING_KEY, new float[34 * 2], 34, 2)
                .put(SketchVocabulary.CLASSIFIER_KEY, new float[33 * 2], 33, 2);
        assertEquals(new SketchVocabulary(32), SketchVocabulary.fromCheckpoint(src));
        src.put(SketchVocabulary.CLASSIFIER_KEY, new float[34 * 2], 34, 2);
        SongBloomWeightException ex = assertThrows(SongBloomWeightException.class, () -> SketchVocabulary.fromCheckpoint(src));
        assertTrue(ex.getMessage().contains("expected [33, dim]"), ex.getMessage());
        assertThrows(SongBloomWeightException.class, () -> SketchVocabulary.fromCheckpoint(new InMemoryTensorSource()));
    }

    @Test
    void rejectsTokensOutsideTheVocabularyWithoutClamping() {
        SketchVocabulary v = SketchVocabulary.released();
        long[] tokens = {1, 16383, 16500, 7};
        SketchTokenException ex = assertThrows(SketchTokenException.class, () -> v.requireTokens(tokens, false));
        String m = ex.getMessage();
        assertTrue(m.contains("sketch token 16500 at position 2"), m);
        assertTrue(m.contains("16384 codes"), m);
        assertTrue(m.contains("at least 16501 codes"), m);
        assertTrue(m.contains("--codebook-size 16384"), m);
        assertArrayEquals(new long[]{1, 16383, 16500, 7}, tokens, "input must not be modified");

        assertDoesNotThrow(() -> v.requireTokens(new int[]{0, 16383, 16384}, true));
        SketchTokenException eos = assertThrows(SketchTokenException.class, () -> v.requireTokens(new int[]{0, 16384}, false));
        assertTrue(eos.getMessage().contains("is EOS"), eos.getMessage());
        assertThrows(SketchTokenException.class, () -> v.requireTokens(new int[]{-1}, true));
        SketchTokenException special = assertThrows(SketchTokenException.class, () -> v.requireTokens(new int[]{16385}, true));
        assertTrue(special.getMessage().contains("ignore label"), special.getMessage());
    }

    @Test
    void codebookSizeMustMatch() {
        SketchVocabulary v = SketchVocabulary.released();
        assertDoesNotThrow(() -> v.requireCodebookSize(16384));
        SketchTokenException ex = assertThrows(SketchTokenException.class, () -> v.requireCodebookSize(8192));
        assertTrue(ex.getMessage().contains("has 8192 codes but the model's sketch vocabulary has 16384 codes"), ex.getMessage());
        assertTrue(ex.getMessage().contains("--codebook-size 16384"), ex.getMessage());
    }
}
