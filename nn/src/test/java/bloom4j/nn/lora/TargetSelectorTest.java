package bloom4j.nn.lora;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** PEFT's target rules, on examples of PEFT's own matching (huggingface/peft@5d602fd src/peft/tuners/tuners_utils.py check_target_module_exists). */
class TargetSelectorTest {
    static final String Q0 = "model.layers.0.self_attn.q_proj";
    static final String Q3 = "model.layers.3.self_attn.q_proj";
    static final String V3 = "model.layers.3.self_attn.v_proj";

    static TargetSelector sel(LoraConfig c) { return new TargetSelector(c); }

    static LoraConfig names(String... n) { return LoraConfig.lora(8, 16, Targets.names(n)); }

    @Test void listMatchesExactlyOrByWholeSegmentSuffix() {
        TargetSelector s = sel(names("q_proj"));
        assertTrue(s.matches(Q3));
        assertTrue(s.matches("q_proj"));
        assertFalse(s.matches("model.layers.3.self_attn.xq_proj"));
        assertFalse(s.matches("model.layers.3.self_attn.q_proj.inner"));
        TargetSelector two = sel(names("self_attn.q_proj"));
        assertTrue(two.matches(Q3));
        assertFalse(two.matches("model.layers.3.cross_attn.q_proj"));
    }

    @Test void stringIsAFullMatchRegex() {
        assertFalse(sel(LoraConfig.lora(8, 16, Targets.regex("q_proj"))).matches(Q3), "full match, not search");
        assertTrue(sel(LoraConfig.lora(8, 16, Targets.regex("q_proj"))).matches("q_proj"));
        TargetSelector s = sel(LoraConfig.lora(8, 16, Targets.regex(".*\\.(q_proj|v_proj)")));
        assertTrue(s.matches(Q3));
        assertTrue(s.matches(V3));
        assertFalse(s.matches("model.layers.3.self_attn.k_proj"));
        TargetSelector layer1 = sel(LoraConfig.lora(8, 16, Targets.regex("model\\.layers\\.1\\..*_proj")));
        assertTrue(layer1.matches("model.layers.1.mlp.up_proj"));
        assertFalse(layer1.matches("model.layers.11.mlp.up_proj"));
    }

    @Test void allLinearSkipsTheOutputHead() {
        TargetSelector s = sel(LoraConfig.lora(8, 16, Targets.regex("ALL-LINEAR")));
        assertTrue(s.matches(Q3));
        assertTrue(s.matches("model.layers.0.mlp.down_proj"));
        assertFalse(s.matches("lm_head"));
    }

    @Test void excludeModules() {
        TargetSelector list = sel(names("q_proj", "v_proj").withExclude(Targets.names("layers.0.self_attn.q_proj")));
        assertFalse(list.matches(Q0));
        assertTrue(list.matches(Q3));
        assertTrue(list.excluded(Q0));
        TargetSelector regex = sel(names("q_proj", "v_proj").withExclude(Targets.regex(".*layers\\.3\\..*")));
        assertTrue(regex.matches(Q0));
        assertFalse(regex.matches(Q3));
        assertFalse(regex.matches(V3));
        // exclusion beats an exact target
        assertFalse(sel(names(Q3).withExclude(Targets.names("q_proj"))).matches(Q3));
    }

    @Test void layerIndexIsTheFirstNumberAfterASegment() {
        TargetSelector s = sel(names("q_proj").withLayers(List.of(1, 3), null));
        assertEquals(3, s.layerIndex(Q3));
        assertTrue(s.matches(Q3));
        assertFalse(s.matches(Q0));
        assertEquals(1, s.layerIndex("model.encoder.blocks.1.layers.2.q_proj"));
        assertNull(s.layerIndex("layers.3.self_attn.q_proj"), "a list at the root has no segment before it");
        assertFalse(s.matches("layers.3.self_attn.q_proj"));
        assertFalse(s.matches("model.q_proj"), "no index: not adapted");
        assertTrue(s.matches("q_proj"), "an exact name skips the layer filter, as in PEFT");
        assertTrue(sel(names("q_proj").withLayers(List.of(), null)).matches(Q0), "an empty list filters nothing");
    }

    @Test void layersPatternPicksTheList() {
        TargetSelector s = sel(names("q_proj").withLayers(List.of(2), List.of("layers")));
        assertEquals(2, s.layerIndex("model.encoder.blocks.1.layers.2.q_proj"));
        assertTrue(s.matches("model.encoder.blocks.1.layers.2.q_proj"));
        assertFalse(s.matches("model.encoder.blocks.2.layers.1.q_proj"));
        TargetSelector two = sel(names("q_proj").withLayers(List.of(0), List.of("h", "layers")));
        assertEquals(0, two.layerIndex("transformer.h.0.attn.q_proj"));
        assertEquals(5, two.layerIndex("model.layers.5.self_attn.q_proj"));
    }

    @Test void layersToTransformWithARegexIsAConfigError() {
        LoraConfig c = LoraConfig.lora(8, 16, Targets.regex(".*q_proj"));
        assertThrows(IllegalArgumentException.class, () -> c.withLayers(List.of(1), null));
    }

    @Test void rankAndAlphaPatternsFirstMatchInOrder() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("^model.layers.0.self_attn.v_proj", 4);
        ranks.put("v_proj", 2);
        ranks.put("layers\\.3\\.self_attn\\.q_proj", 32);
        Map<String, Double> alphas = new LinkedHashMap<>();
        alphas.put("q_proj", 64.0);
        TargetSelector s = sel(names("q_proj", "v_proj").withPatterns(ranks, alphas));
        assertEquals(4, s.rank("model.layers.0.self_attn.v_proj"));
        assertEquals(2, s.rank(V3));
        assertEquals(2, s.rank("x.model.layers.0.self_attn.v_proj"), "^ anchors at the start of the name");
        assertEquals(32, s.rank(Q3));
        assertEquals(8, s.rank(Q0));
        assertEquals(8, s.rank("model.layers.3.self_attn.xv_proj"), "keys match whole segments");
        assertEquals(64.0, s.alpha(Q0));
        assertEquals(16.0, s.alpha(V3));
        assertEquals(64.0 / 32, s.scaling(Q3));
        assertEquals(64.0 / Math.sqrt(32), sel(names("q_proj").withPatterns(ranks, alphas).withRslora(true)).scaling(Q3), 1e-15);
    }

    @Test void badRegexNamesTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sel(LoraConfig.lora(8, 16, Targets.regex("q_proj("))));
        assertTrue(e.getMessage().startsWith("target_modules: invalid regular expression"), e.getMessage());
    }
}
