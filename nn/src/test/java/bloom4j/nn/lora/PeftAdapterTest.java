package bloom4j.nn.lora;

import bloom4j.nn.Rand;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** adapter_config.json and adapter_model.safetensors: PEFT's names on save and load, and what is refused. */
class PeftAdapterTest {
    static final String MOD = "model.layers.0.self_attn.q_proj";

    static Map<String, INDArray> tensors(boolean dora, int r) {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put(MOD + ".lora_A.weight", Rand.normal(1, r, 6).castTo(DataType.FLOAT));
        m.put(MOD + ".lora_B.weight", Rand.normal(2, 5, r).castTo(DataType.FLOAT));
        if (dora) m.put(MOD + ".lora_magnitude_vector", Rand.normal(3, 5).castTo(DataType.FLOAT));
        return m;
    }

    static void writeRaw(Path dir, String config, Map<String, INDArray> fileTensors) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(PeftAdapter.CONFIG_FILE), config);
        SafeTensorsWriter.write(dir.resolve(PeftAdapter.WEIGHTS_FILE), SafeTensorsWriter.arrays(fileTensors), Map.of("format", "pt"));
    }

    static String config(boolean dora) {
        return "{\"peft_type\": \"LORA\", \"r\": 4, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"], \"use_dora\": " + dora + "}";
    }

    @Test void writesPeftKeysAndReadsThemBack(@TempDir Path tmp) throws IOException {
        LoraConfig cfg = LoraConfig.dora(4, 8, Targets.names("q_proj", "v_proj"));
        new PeftAdapter(cfg, tensors(true, 4)).write(tmp);
        try (SafeTensorsFile f = SafeTensorsFile.open(tmp.resolve(PeftAdapter.WEIGHTS_FILE))) {
            assertEquals(List.of("base_model.model." + MOD + ".lora_A.weight", "base_model.model." + MOD + ".lora_B.weight",
                    "base_model.model." + MOD + ".lora_magnitude_vector"), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
        }
        PeftAdapter back = PeftAdapter.read(tmp);
        assertEquals(tensors(true, 4), back.tensors());
        assertEquals(cfg.toJsonText(), back.config().toJsonText());
        assertEquals(List.of(MOD), back.modules());
    }

    @Test void readsAdapterNamesAndUnprefixedKeys(@TempDir Path tmp) throws IOException {
        Map<String, INDArray> t = tensors(true, 4);
        Map<String, INDArray> file = new LinkedHashMap<>();
        file.put(MOD + ".lora_A.default.weight", t.get(MOD + ".lora_A.weight"));                        // no base_model.model.
        file.put("base_model.model." + MOD + ".lora_B.default.weight", t.get(MOD + ".lora_B.weight"));
        file.put("base_model.model." + MOD + ".lora_magnitude_vector.default.weight", t.get(MOD + ".lora_magnitude_vector"));
        writeRaw(tmp, config(true), file);
        assertEquals(t, PeftAdapter.read(tmp).tensors());
    }

    @Test void severalAdapterNamesNeedAChoice(@TempDir Path tmp) throws IOException {
        Map<String, INDArray> t = tensors(false, 4);
        Map<String, INDArray> file = new LinkedHashMap<>();
        for (String name : List.of("default", "other")) {
            file.put(MOD + ".lora_A." + name + ".weight", t.get(MOD + ".lora_A.weight"));
            file.put(MOD + ".lora_B." + name + ".weight", t.get(MOD + ".lora_B.weight"));
        }
        writeRaw(tmp, config(false), file);
        IOException e = assertThrows(IOException.class, () -> PeftAdapter.read(tmp));
        assertTrue(e.getMessage().contains("[default, other]"), e.getMessage());
        assertEquals(t, PeftAdapter.read(tmp, "other").tensors());
    }

    @Test void doraWithoutMagnitudeIsAnError(@TempDir Path tmp) throws IOException {
        Map<String, INDArray> file = new LinkedHashMap<>();
        tensors(false, 4).forEach((k, v) -> file.put(PeftAdapter.fileKey(k), v));
        writeRaw(tmp, config(true), file);
        IOException e = assertThrows(IOException.class, () -> PeftAdapter.read(tmp));
        assertTrue(e.getMessage().contains(MOD + ": use_dora is true but lora_magnitude_vector is missing"), e.getMessage());
    }

    @Test void rankMustMatchTheConfig(@TempDir Path tmp) throws IOException {
        Map<String, INDArray> file = new LinkedHashMap<>();
        tensors(false, 3).forEach((k, v) -> file.put(PeftAdapter.fileKey(k), v));
        writeRaw(tmp, config(false), file);
        IOException e = assertThrows(IOException.class, () -> PeftAdapter.read(tmp));
        assertTrue(e.getMessage().contains("do not have the config's rank 4"), e.getMessage());
    }

    @Test void unsupportedTensorsAreRefused(@TempDir Path tmp) throws IOException {
        Map<String, INDArray> file = new LinkedHashMap<>();
        tensors(false, 4).forEach((k, v) -> file.put(PeftAdapter.fileKey(k), v));
        file.put("base_model.model.lm_head.weight", Rand.normal(4, 2, 2).castTo(DataType.FLOAT));
        file.put("base_model.model.model.embed_tokens.lora_embedding_A", Rand.normal(5, 4, 9).castTo(DataType.FLOAT));
        file.put("base_model.model." + MOD + ".lora_B.bias", Rand.normal(6, 5).castTo(DataType.FLOAT));
        writeRaw(tmp, config(false), file);
        IOException e = assertThrows(IOException.class, () -> PeftAdapter.read(tmp));
        assertTrue(e.getMessage().contains("lm_head.weight (not a LoRA/DoRA tensor"), e.getMessage());
        assertTrue(e.getMessage().contains("lora_embedding_A (LoRA on an embedding)"), e.getMessage());
        assertTrue(e.getMessage().contains("lora_B.bias (lora_bias)"), e.getMessage());
    }

    @Test void missingFilesSayWhat(@TempDir Path tmp) throws IOException {
        IOException e = assertThrows(IOException.class, () -> PeftAdapter.read(tmp));
        assertTrue(e.getMessage().contains("adapter_config.json is missing"), e.getMessage());
        Files.writeString(tmp.resolve(PeftAdapter.CONFIG_FILE), config(false));
        Files.writeString(tmp.resolve("adapter_model.bin"), "x");
        e = assertThrows(IOException.class, () -> PeftAdapter.read(tmp));
        assertTrue(e.getMessage().contains("safe_serialization=True"), e.getMessage());
    }
}
