package bloom4j.models.songbloom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The inference block is read strictly, and every value knows whether the user gave it. */
class InferenceConfigTest {
    static JsonNode yaml(String s) throws Exception { return new ObjectMapper(new YAMLFactory()).readTree(s); }

    @Test
    void missingKeysTakeTheReleasedValuesAndSaySo() throws Exception {
        InferenceConfig c = InferenceConfig.parse(yaml("max_dur: 30\ninference:\n  top_k: 7\n"), "x.yaml");
        assertEquals(new SamplingOptions(1.5f, true, 0.9f, 7, true, 50), c.sampling());
        assertEquals(36, c.steps());
        assertEquals(30, c.maxDurationSeconds());
        assertEquals("inference.top_k in x.yaml", c.source("top_k"));
        assertEquals("the released default; x.yaml has no inference.temp", c.source("temp"));
        assertTrue(c.given("top_k"));
        assertFalse(c.given("steps"));
        assertEquals(150, InferenceConfig.released().maxDurationSeconds());
    }

    @Test
    void aCfgPairSplitsBetweenTheSketchModelAndTheDit() throws Exception {
        InferenceConfig c = InferenceConfig.parse(yaml("inference: {cfg_coef: [2.0, 1.25], steps: 12, diff_temp: 0.5}"), "y");
        assertEquals(2.0f, c.sampling().cfgCoef());
        assertEquals(1.25, c.ditCfg());
        assertEquals(12, c.steps());
        assertEquals(0.5, c.diffTemp());
    }

    @Test
    void valuesOfTheWrongTypeAreErrorsNamingEachKey() throws Exception {
        JsonNode bad = yaml("max_dur: long\ninference:\n  top_k: 1.5\n  steps: 0\n  use_sampling: 'yes'\n  penalty_window: -3\n"
                + "  temp: -1\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InferenceConfig.parse(bad, "z.yaml"));
        String m = e.getMessage();
        assertTrue(m.startsWith("z.yaml: 6 problems"), m);
        for (String s : new String[] {"inference.top_k must be a whole number >= 0, got a number 1.5", "inference.steps must be a whole "
                + "number >= 1", "inference.use_sampling must be true or false, got text", "inference.penalty_window must be a whole "
                + "number >= 1", "inference.temp must be a finite number", "max_dur must be a positive number of seconds, got text"}) {
            assertTrue(m.contains(s), s + " in: " + m);
        }
        e = assertThrows(IllegalArgumentException.class, () -> InferenceConfig.parse(yaml("inference: 3\n"), "w"));
        assertEquals("w: 'inference' must be a mapping (cfg_coef, temp, top_k, steps, ...), got a number", e.getMessage());
    }

    @Test
    void aTopKThatDoesNotFitNamesItsSource() throws Exception {
        SketchVocabulary v = new SketchVocabulary(15);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InferenceConfig.parse(null, "m/config.json")
                .requireFits(v));
        assertTrue(e.getMessage().startsWith("top_k 100 (the released default; m/config.json has no inference.top_k) exceeds the "
                + "model's 16 sketch classes"), e.getMessage());
        InferenceConfig.parse(yaml("inference: {top_k: 16}"), "m").requireFits(v);
    }
}
