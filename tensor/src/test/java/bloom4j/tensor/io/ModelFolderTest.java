package bloom4j.tensor.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One reading of a model folder's config.json, and errors that name the file and what was expected. */
class ModelFolderTest {
    @TempDir Path tmp;

    String refused(Path dir) {
        return assertThrows(CheckpointException.class, () -> ModelFolder.open(dir)).getMessage();
    }

    @Test
    void readsTypeAndUpstreamOnce() throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"muq\", \"upstream_config\": {\"encoder_dim\": 1024}}");
        ModelFolder f = ModelFolder.open(tmp);
        assertEquals("muq", f.modelType());
        assertEquals(1024, f.upstream().get("encoder_dim").asInt());
        assertEquals(f, f.requireType("vae", "muq"));
        String m = assertThrows(CheckpointException.class, () -> f.requireType("songbloom")).getMessage();
        assertTrue(m.startsWith(tmp.resolve("config.json") + ": model_type is 'muq', expected 'songbloom'"), m);
    }

    @Test
    void everyBrokenFolderNamesTheFile() throws Exception {
        assertTrue(refused(tmp.resolve("nope")).endsWith("no such model folder"));
        assertTrue(refused(tmp).contains("no config.json: not a bloom4j model folder"));
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"songbloom\", \"upstream_con");
        String m = refused(tmp);
        assertTrue(m.startsWith(tmp.resolve("config.json") + ": not valid JSON (line 1"), m);
        Files.writeString(tmp.resolve("config.json"), "[1]");
        assertTrue(refused(tmp).contains("expected a JSON object"));
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\": 3}");
        assertTrue(refused(tmp).contains("no 'model_type'"));
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"vae\", \"upstream_config\": \"x\"}");
        assertTrue(refused(tmp).contains("'upstream_config' must be the upstream config as a JSON object, got string"));
        Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"vae\"}");
        ModelFolder f = ModelFolder.open(tmp);
        assertNull(f.upstream());
        String u = assertThrows(CheckpointException.class, () -> f.requireUpstream("its sizes are not in the weights", "vae.json"))
                .getMessage();
        assertTrue(u.contains("no upstream_config; its sizes are not in the weights. Convert again"), u);
    }
}
