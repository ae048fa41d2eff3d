package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LyricVocabularyTest {

    @Test
    void releasedVocabularyHas330EntriesWithTheSpecLayout() {
        LyricVocabulary v = LyricVocabulary.released();
        assertEquals(330, v.size());
        assertEquals("", v.token(0));
        assertEquals(0, v.id(""));
        String[] tags = {"[verse]", "[chorus]", "[bridge]", "[intro]", "[outro]", "[inst]", "[silence]"};
        for (int i = 0; i < tags.length; i++) {
            assertEquals(i + 1, v.id(tags[i]));
            assertTrue(v.isStructure(i + 1));
        }
        assertFalse(v.isStructure(0));
        for (int id = 8; id < 330; id++) assertFalse(v.isStructure(id), "id " + id);
        assertEquals(8, v.id("!"));
        assertEquals(9, v.structureSplitId());
        assertEquals(11, v.sentenceSplitId());
        assertEquals(13, v.id("AA"));
        assertEquals(328, v.id("zh"));
        assertEquals(329, v.id("\u2026"));
        assertEquals(-1, v.id("xyz"));
    }

    @Test
    void yamlPlainScalarsStayStrings() {
        // YAML 1.1 readers may take y/n/Y/N as booleans; the vocabulary needs the letters.
        LyricVocabulary v = LyricVocabulary.released();
        for (String s : new String[]{"y", "n", "Y", "N", "."}) assertTrue(v.contains(s), s);
    }

    @Test
    void releasedVocabularyEqualsTheFixtureLists() throws Exception {
        for (String f : new String[]{"songbloom-lyrics", "songbloom-generate", "songbloom-ar"}) {
            JsonNode json = TestFixtures.open(f).json();
            List<String> expected = new ArrayList<>();
            json.get("vocab_list").forEach(n -> expected.add(n.asText()));
            assertEquals(expected, LyricVocabulary.released().tokens(), f);
        }
    }

    @Test
    void rejectsMalformedVocabularies() {
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> LyricVocabulary.of(List.of("", ",", ".", "a", "a")));
        assertTrue(dup.getMessage().contains("'a' appears twice (ids 3 and 4)"), dup.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LyricVocabulary.of(List.of("a", ",", ".")));
        IllegalArgumentException noComma = assertThrows(IllegalArgumentException.class, () -> LyricVocabulary.of(List.of("", ".", "a")));
        assertTrue(noComma.getMessage().contains("no ','"), noComma.getMessage());
    }

    @Test
    void parsesYamlLists() throws Exception {
        String yaml = "- ''\n- '[verse]'\n- ','\n- .\n- y\n- n\n";
        LyricVocabulary v = LyricVocabulary.fromYaml(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)), "test");
        assertEquals(List.of("", "[verse]", ",", ".", "y", "n"), v.tokens());
        assertTrue(v.isStructure(1));
    }
}
