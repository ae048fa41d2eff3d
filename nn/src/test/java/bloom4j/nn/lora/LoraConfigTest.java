package bloom4j.nn.lora;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class LoraConfigTest {

    @Test void freshConfigHasPeftsKeysAndDefaults() {
        String json = LoraConfig.dora(16, 32, Targets.names("q_proj", "v_proj")).withDropout(0.05).toJsonText();
        assertTrue(json.startsWith("{\n  \"alora_invocation_tokens\": null,\n  \"alpha_pattern\": {},\n"), json);
        assertTrue(json.contains("\n  \"lora_alpha\": 32,\n  \"lora_bias\": false,\n  \"lora_dropout\": 0.05,\n"), json);
        assertTrue(json.contains("\"target_modules\": [\n    \"q_proj\",\n    \"v_proj\"\n  ],"), json);
        assertTrue(json.contains("\"peft_type\": \"LORA\""));
        assertTrue(json.contains("\"inference_mode\": true"));
        assertTrue(json.contains("\"use_dora\": true"));
        assertTrue(json.contains("\"init_lora_weights\": true"));
        assertTrue(json.endsWith("\"velora_config\": null\n}"), json);
        LoraConfig back = LoraConfig.fromJson(json, "test");
        assertEquals(json, back.toJsonText());
        assertEquals(16, back.r());
        assertEquals(32.0, back.loraAlpha());
        assertEquals(List.of("q_proj", "v_proj"), back.targetModules().names());
    }

    @Test void missingKeysTakePeftDefaults() {
        LoraConfig c = LoraConfig.fromJson("{\"peft_type\": \"LORA\", \"target_modules\": \".*proj\"}", "t");
        assertEquals(8, c.r());
        assertEquals(8.0, c.loraAlpha());
        assertEquals(0.0, c.loraDropout());
        assertEquals(".*proj", c.targetModules().regex());
        assertFalse(c.useDora());
        assertEquals("true", c.initLoraWeights());
    }

    @Test void refusesWhatItCannotHonour() {
        for (String extra : List.of("\"use_qalora\": true", "\"fan_in_fan_out\": true", "\"lora_bias\": true", "\"bias\": \"all\"",
                "\"modules_to_save\": [\"score\"]", "\"layer_replication\": [[0, 2]]", "\"init_lora_weights\": \"mica\"",
                "\"target_parameters\": [\"experts.w\"]")) {
            String json = "{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], " + extra + "}";
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson(json, "f.json"), extra);
            assertTrue(e.getMessage().startsWith("f.json: uses features bloom4j does not implement"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson("{\"peft_type\": \"IA3\", \"target_modules\": [\"q\"]}", "f"));
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson("{\"target_modules\": [\"q\"]}", "f"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraConfig.fromJson("{\"peft_type\": \"LORA\"}", "f"));
        assertTrue(e.getMessage().contains("target_modules"), e.getMessage());
        // Defaults and nulls of those fields are fine (PEFT writes them all).
        LoraConfig.fromJson("{\"peft_type\": \"LORA\", \"target_modules\": [\"q\"], \"use_qalora\": false, \"megatron_config\": null,"
                + " \"loftq_config\": {}, \"bias\": \"none\", \"modules_to_save\": null}", "f");
    }

    @Test void validatesValues() {
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.lora(0, 8, Targets.names("q")));
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.lora(8, 8, Targets.names("q")).withDropout(1.0));
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.lora(8, 8, Targets.names("q")).withPatterns(Map.of("q", 0), null));
    }

    @Test void pythonFloatRepr() {
        assertEquals("0.05", PythonJson.pythonFloat(0.05));
        assertEquals("0.1", PythonJson.pythonFloat(0.1));
        assertEquals("8.0", PythonJson.pythonFloat(8.0));
        assertEquals("0.0001", PythonJson.pythonFloat(1e-4));
        assertEquals("1e-05", PythonJson.pythonFloat(1e-5));
        assertEquals("1.5e-07", PythonJson.pythonFloat(1.5e-7));
        assertEquals("1e+16", PythonJson.pythonFloat(1e16));
        assertEquals("123456789012345.0", PythonJson.pythonFloat(123456789012345.0));
        assertEquals("-2.5", PythonJson.pythonFloat(-2.5));
        assertEquals("0.30000000000000004", PythonJson.pythonFloat(0.1 + 0.2));
    }
}
