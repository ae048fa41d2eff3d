package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LyricTokenizerTest {

    @Test
    void matchesTheLyricsFixtureIdsExactly() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-lyrics")) {
            JsonNode json = f.json();
            int maxSentence = json.at("/config/PhonemeTokenizerConditioner/max_sentence_per_structure").asInt();
            assertEquals(4, maxSentence);
            LyricTokenizer tok = new LyricTokenizer(LyricVocabulary.released(), maxSentence);
            JsonNode strings = json.get("strings");
            assertEquals(4, strings.size());
            for (int i = 0; i < strings.size(); i++) {
                TokenizedLyrics t = tok.tokenize(strings.get(i).asText());
                assertArrayEquals(f.tensor("tokens_" + i).toIntVector(), t.tokenIds(), "tokens_" + i);
                assertArrayEquals(f.tensor("special_ids_" + i).toIntVector(), t.specialIds(), "special_ids_" + i);
                assertArrayEquals(f.tensor("sentence_ids_" + i).toIntVector(), t.sentenceIds(), "sentence_ids_" + i);
            }
        }
    }

    @Test
    void dropsUnknownPiecesButReportsThem() {
        LyricTokenizer tok = LyricTokenizer.released();
        TokenizedLyrics t = tok.tokenize("n i3 h ao3 , [chorus] AA1 xyz B IY1 . [inst]");
        assertEquals(List.of("xyz"), t.dropped());
        assertEquals(11, t.length());
        assertEquals(List.of(), tok.tokenize("[verse] n i3").dropped());
        // Only the single space splits: a tab stays inside a piece, which is then unknown.
        assertEquals(List.of("n\ti3"), tok.tokenize("[verse] n\ti3").dropped());
    }

    @Test
    void emptyAndDoubleSpacesGiveIdZero() {
        LyricTokenizer tok = LyricTokenizer.released();
        TokenizedLyrics empty = tok.tokenize("");
        assertArrayEquals(new int[]{0}, empty.tokenIds());
        assertArrayEquals(new int[]{0}, empty.specialIds());
        assertArrayEquals(new int[]{1}, empty.sentenceIds());
        assertArrayEquals(empty.tokenIds(), tok.tokenize(null).tokenIds());
        assertArrayEquals(empty.tokenIds(), tok.nullLyrics().tokenIds());
        // "[verse]  n" -> [verse], '', n ; trailing space -> trailing ''
        TokenizedLyrics t = tok.tokenize("[verse]  n ");
        assertArrayEquals(new int[]{1, 0, tok.vocabulary().id("n"), 0}, t.tokenIds());
        assertArrayEquals(new int[]{1, 1, 1, 1}, t.specialIds());
        assertArrayEquals(new int[]{0, 1, 1, 1}, t.sentenceIds());
    }

    @Test
    void stateMachineFollowsTheSpecTable() {
        LyricVocabulary v = LyricVocabulary.released();
        LyricTokenizer tok = new LyricTokenizer(v, 3);  // cap = 2
        TokenizedLyrics t = tok.tokenize("a [chorus] a . a . a . a , a [intro] a");
        int a = v.id("a");
        assertArrayEquals(new int[]{a, 2, a, 11, a, 11, a, 11, a, 9, a, 4, a}, t.tokenIds());
        assertArrayEquals(new int[]{0, 2, 2, 11, 2, 11, 2, 11, 2, 9, 2, 4, 4}, t.specialIds());
        assertArrayEquals(new int[]{1, 0, 1, 0, 2, 0, 2, 0, 2, 0, 2, 0, 1}, t.sentenceIds());
        // One-row sentence table: cap 0, every sentence index is 0.
        TokenizedLyrics one = new LyricTokenizer(v, 1).tokenize("[verse] a . a");
        assertArrayEquals(new int[]{0, 0, 0, 0}, one.sentenceIds());
        assertThrows(IllegalArgumentException.class, () -> new LyricTokenizer(v, 0));
    }

    @Test
    void matchesTheGenerateFixtureLyricIds() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-generate")) {
            String lyric = f.json().at("/config/generate_params/lyric").asText();
            TokenizedLyrics t = LyricTokenizer.released().tokenize(lyric);
            assertArrayEquals(f.tensor("lyrics_token_ids").toIntVector(), t.tokenIds());
            assertTrue(t.dropped().isEmpty());
        }
    }
}
