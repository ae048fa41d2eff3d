package bloom4j.tensor.io;

import bloom4j.tensor.pickle.PyObject;
import bloom4j.tensor.pickle.PyTuple;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LightningCheckpointTest {

    static Path fixture(String name) throws Exception { return PtFixtureTest.fixtureDir().resolve(name); }

    @Test
    void metadataOfAPlainDictCheckpoint() throws Exception {
        try (LightningCheckpoint c = LightningCheckpoint.open(fixture("lightning.ckpt"))) {
            assertEquals(OptionalLong.of(3), c.epoch());
            assertEquals(OptionalLong.of(120), c.globalStep());
            assertEquals(Optional.of("2.2.1"), c.lightningVersion());
            assertEquals(Optional.of("cfg"), c.hparamsName());
            Map<?, ?> hp = (Map<?, ?>) c.hyperParameters();
            assertEquals(1e-4, hp.get("lr"));
            assertEquals(PyTuple.of(0.9, 0.999), hp.get("betas"));
            assertEquals("songbloom", hp.get("name"));
            assertEquals(Boolean.TRUE, hp.get("flag"));
            assertTrue(hp.containsKey("nothing"));
            assertNull(hp.get("nothing"));
            Map<?, ?> cfg = (Map<?, ?>) hp.get("cfg");
            assertEquals(Map.of("dim", 8L, "layers", List.of(1L, 2L, 3L)), cfg.get("model"));
            assertEquals(48000L, cfg.get("sr"));
            assertEquals(hp, c.plainHyperParameters(), "plain dicts stay as they are");
            assertEquals(List.of("model.block_conv.1.weight", "model.block_conv.1.bias", "model.bos_token"), c.stateDict().names());
            List<?> sched = (List<?>) c.entries().get("lr_schedulers");
            assertEquals(1000L, ((Map<?, ?>) sched.get(0)).get("T_max"));
            Map<?, ?> group = (Map<?, ?>) ((List<?>) ((Map<?, ?>) ((List<?>) c.entries().get("optimizer_states")).get(0))
                    .get("param_groups")).get(0);
            assertEquals(List.of(0L, 1L), group.get("params"));
            assertNull(group.get("foreach"));
        }
    }

    @Test
    void omegaconfHyperParametersArePreservedAndConvertible() throws Exception {
        try (LightningCheckpoint c = LightningCheckpoint.open(fixture("lightning_omegaconf.ckpt"))) {
            assertEquals(OptionalLong.of(3), c.epoch());
            assertEquals(OptionalLong.of(120), c.globalStep());
            PyObject cfg = assertInstanceOf(PyObject.class, c.hyperParameters());
            assertEquals("omegaconf.dictconfig.DictConfig", cfg.type().qualifiedName());
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("dim", 8L);
            model.put("block_size", 16L);
            Map<String, Object> want = new LinkedHashMap<>();
            want.put("model", model);
            want.put("sr", 48000L);
            want.put("vae", Map.of("vae_ckpt", "autoencoder_music_dsp1920.ckpt"));
            Object plain = c.plainHyperParameters();
            assertEquals(want, plain);
            assertEquals(List.of("model", "sr", "vae"), new ArrayList<>(((Map<?, ?>) plain).keySet()));
            assertEquals(3, c.stateDict().names().size());
        }
    }

    @Test
    void aPlainStateDictIsNotALightningCheckpoint() throws Exception {
        CheckpointException e = assertThrows(CheckpointException.class, () -> LightningCheckpoint.open(fixture("model.pt")));
        assertTrue(e.getMessage().contains("not a Lightning checkpoint"), e.getMessage());
    }
}
