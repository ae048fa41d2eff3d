package bloom4j.models.songbloom;

import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The service API over a model folder made from the songbloom-generate fixture's tiny random SongBloom (VAE under vae.vae.). */
class SongGeneratorTest {
    @TempDir static Path tmp;
    static Path folder;
    static SongGenerator gen;

    /** Writes the fixture's weights and config as a converted model folder. */
    static Path modelFolder(Path dir, String modelType) throws Exception {
        Files.createDirectories(dir);
        try (Fixture f = Fixtures.open("songbloom-generate"); TensorSource w = Checkpoints.open(f.checkpoint())) {
            SafeTensorsWriter.write(dir.resolve("model.safetensors"), w, Map.of());
            ObjectMapper om = new ObjectMapper();
            ObjectNode up = om.createObjectNode();
            up.set("model", f.config().get("MVSA_DiTAR"));
            up.set("vae_config", f.config().get("vae_config"));
            ObjectNode inf = up.putObject("inference");
            inf.put("cfg_coef", 1.5).put("temp", 0.9).put("diff_temp", 0.95).put("top_k", 5).put("penalty_repeat", true)
                    .put("penalty_window", 6).put("steps", 3);
            up.put("max_dur", 150);
            ObjectNode cfg = om.createObjectNode();
            cfg.put("model_type", modelType);
            cfg.set("upstream_config", up);
            om.writeValue(dir.resolve("config.json").toFile(), cfg);
        }
        return dir;
    }

    @BeforeAll
    static void load() throws Exception {
        folder = modelFolder(tmp.resolve("songbloom"), "songbloom");
        gen = SongGenerator.load(folder);
    }

    /** A short two-tone stereo prompt at 24 kHz (resampled to the model's 48 kHz). */
    static Audio prompt() {
        int n = 24000 / 10;
        float[][] x = new float[2][n];
        for (int i = 0; i < n; i++) {
            x[0][i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / 24000.0));
            x[1][i] = (float) (0.3 * Math.sin(2 * Math.PI * 660 * i / 24000.0));
        }
        return Audio.of(x, 24000);
    }

    static SongGenerator.Request request() {
        // 12 latent frames at the tiny VAE's 6000 frames/s: 3 kept blocks of 4
        return SongGenerator.Request.of("[verse] n i3 h ao3 . w o3 , [chorus] HH AH0", prompt()).withSeed(7).withMaxDuration(12 / 6000.0);
    }

    @Test
    void generatesAndStreamsBlocks() throws Exception {
        List<SongGenerator.BlockEvent> events = new ArrayList<>();
        List<SongGenerator.Song> songs = gen.generate(request().withSamples(2), events::add);
        assertEquals(2, songs.size());
        for (SongGenerator.Song s : songs) {
            assertEquals(48000, s.audio().sampleRate());
            assertEquals(2, s.audio().channels());
            assertEquals(s.tokens().length * 8, s.audio().frames());
            assertTrue(s.tokens().length <= 12 && s.tokens().length % 4 == 0);
        }
        assertTrue(events.stream().anyMatch(e -> !e.kept()), "the last sampled block is reported as dropped");
        SongGenerator.BlockEvent firstKept = events.stream().filter(SongGenerator.BlockEvent::kept).findFirst().orElseThrow();
        assertEquals(4 * 8, firstKept.audioSoFar().get().frames());
        assertEquals(3, firstKept.maxBlocks());

        List<SongGenerator.Song> again = gen.generate(request(), SongGenerator.Listener.NONE);
        assertArrayEquals(songs.get(0).tokens(), again.get(0).tokens(), "the same seed gives the same song");
        assertArrayEquals(songs.get(0).audio().channel(0), again.get(0).audio().channel(0));
        List<SongGenerator.Song> other = gen.generate(request().withSeed(8).withTopK(0).withTemperature(1.5f), SongGenerator.Listener.NONE);
        assertNotEquals(0, other.get(0).audio().frames() + 1);
    }

    @Test
    void requestOverridesReachTheSettings() {
        SongBloomModel.Settings d = gen.settings(request());
        assertEquals(3, d.steps());
        assertEquals(5, d.sampling().topK());
        assertEquals(12, d.maxFrames());
        SongBloomModel.Settings o = gen.settings(request().withSteps(2).withCfg(2f).withTopK(1).withTemperature(0.5f));
        assertEquals(2, o.steps());
        assertEquals(2f, o.sampling().cfgCoef());
        assertEquals(2.0, o.ditCfg());
        assertEquals(1, o.sampling().topK());
        assertEquals(0.5f, o.sampling().temperature());
        assertEquals((150 + 10) * 6000, gen.settings(SongGenerator.Request.of("[verse] a1", prompt())).maxFrames());
    }

    @Test
    void badInputIsRefusedClearly() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SongGenerator.Request.of(" ", prompt())).getMessage()
                .startsWith("lyrics"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> request().withSteps(0)).getMessage().startsWith("steps"));
        Exception e = assertThrows(java.io.IOException.class, () -> gen.generate(
                SongGenerator.Request.of("[verse] a1", tmp.resolve("missing.wav")), SongGenerator.Listener.NONE));
        assertTrue(e.getMessage().contains("missing.wav"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> gen.generate(SongGenerator.Request.of("hello world", prompt()),
                SongGenerator.Listener.NONE)).getMessage().startsWith("lyrics"));
        Path muq = modelFolder(tmp.resolve("muq"), "muq");
        Exception kind = assertThrows(SongBloomWeightException.class, () -> SongGenerator.load(muq));
        assertTrue(kind.getMessage().contains("model_type is 'muq'"), kind.getMessage());
        assertThrows(UnsupportedOperationException.class,
                () -> SongGenerator.load(folder, SongGenerator.Options.defaults().withLora(tmp.resolve("adapter"))));
        assertFalse(Files.exists(tmp.resolve("adapter")));
    }
}
