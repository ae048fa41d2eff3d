package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.nn.lora.LoraConfig;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.nn.lora.Targets;
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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
        try (Fixture f = TestFixtures.open("songbloom-generate"); TensorSource w = Checkpoints.open(f.checkpoint())) {
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
    void samplesOfNeighbouringSeedsDoNotCollide() throws Exception {
        // Used to be seed + sample: sample 1 of seed 1 was byte-identical to sample 0 of seed 2.
        SongGenerator.Request r = request().withTopK(0).withTemperature(1.5f);
        SongGenerator.Song s11 = gen.generateSample(r.withSeed(1).withSamples(2), 1, SongGenerator.Listener.NONE);
        SongGenerator.Song s20 = gen.generateSample(r.withSeed(2).withSamples(2), 0, SongGenerator.Listener.NONE);
        assertFalse(java.util.Arrays.equals(s11.audio().channel(0), s20.audio().channel(0)), "(1, 1) and (2, 0) must differ");
        assertEquals(1, s11.sample());
        List<SongGenerator.Song> both = gen.generate(r.withSeed(1).withSamples(2), SongGenerator.Listener.NONE);
        assertArrayEquals(both.get(1).audio().channel(0), s11.audio().channel(0), "generateSample(r, i) is sample i of generate(r)");
        assertThrows(IllegalArgumentException.class, () -> gen.generateSample(r.withSamples(2), 2, SongGenerator.Listener.NONE));
        java.util.Set<Long> seeds = new java.util.HashSet<>();
        for (long seed = -50; seed < 50; seed++) {
            for (int sample = 0; sample < 20; sample++) {
                for (int stream = 0; stream < 2; stream++) seeds.add(SongGenerator.noiseSeed(seed, sample, stream));
            }
        }
        assertEquals(100 * 20 * 2, seeds.size(), "every (seed, sample, stream) gets its own noise seed");
    }

    @Test
    void aPromptShorterThanOneLatentFrameIsRefusedWithTheMinimum() {
        for (int n : new int[] {0, 1, 3}) {
            SongGenerator.Request r = SongGenerator.Request.of("[verse] n i3 h ao3 .", Audio.mono(new float[n], 48000));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gen.generate(r, SongGenerator.Listener.NONE));
            assertTrue(e.getMessage().contains("prompt is too short") && e.getMessage().contains("at least"), e.getMessage());
        }
    }

    /** A PEFT LoRA folder on q_proj/v_proj of layer 0 with non-zero B, keyed as PEFT names modules under {@code prefix}. */
    static Path loraFolder(Path dir, String prefix) throws Exception {
        Map<String, INDArray> t = new LinkedHashMap<>();
        for (String m : List.of("q_proj", "v_proj")) {
            String module = prefix + "ar_transformer.layers.0.self_attn." + m;
            t.put(module + ".lora_A.weight", Nd4j.rand(DataType.FLOAT, 4, 80).subi(0.5));
            t.put(module + ".lora_B.weight", Nd4j.rand(DataType.FLOAT, 80, 4).subi(0.5));
        }
        new PeftAdapter(LoraConfig.lora(4, 8, Targets.names("q_proj", "v_proj")), t).write(dir);
        return dir;
    }

    @Test
    void aLoraAdapterIsMergedIntoTheWeightsAtLoad() throws Exception {
        Nd4j.getRandom().setSeed(11);
        Path lora = loraFolder(tmp.resolve("lora"), "model.");
        PeftAdapter adapter = PeftAdapter.read(lora);
        String q = "model.ar_transformer.layers.0.self_attn.q_proj";
        try (TensorSource base = Checkpoints.open(folder)) {
            TensorSource merged = SongBloomLoader.withAdapterMerged(base, lora);
            INDArray w = base.loadFloat(q + ".weight");
            INDArray a = adapter.tensors().get(q + ".lora_A.weight"), b = adapter.tensors().get(q + ".lora_B.weight");
            INDArray expected = w.add(b.mmul(a).mul(8.0 / 4));                                   // W + (alpha/r)·B·A
            assertTrue(expected.equalsWithEps(merged.loadFloat(q + ".weight"), 1e-6), "q_proj merged as W + s·BA");
            String k = "model.ar_transformer.layers.0.self_attn.k_proj.weight";
            assertEquals(base.loadFloat(k), merged.loadFloat(k), "untargeted weights are untouched");
        }
        // PEFT wrapping the SongBloom module itself names modules without 'model.': found all the same
        try (TensorSource base = Checkpoints.open(folder)) {
            Path bare = loraFolder(tmp.resolve("lora-bare"), "");
            assertNotEquals(base.loadFloat(q + ".weight"), SongBloomLoader.withAdapterMerged(base, bare).loadFloat(q + ".weight"));
        }
        SongGenerator withLora = SongGenerator.load(folder, SongGenerator.Options.defaults().withLora(lora));
        float[] plain = gen.generate(request(), SongGenerator.Listener.NONE).get(0).audio().channel(0);
        float[] adapted = withLora.generate(request(), SongGenerator.Listener.NONE).get(0).audio().channel(0);
        assertFalse(java.util.Arrays.equals(plain, adapted), "the merged adapter changes the song");
    }

    @Test
    void anAdapterForAnotherModelIsRefused() throws Exception {
        Map<String, INDArray> t = new LinkedHashMap<>();
        t.put("encoder.layers.0.attn.lora_A.weight", Nd4j.ones(DataType.FLOAT, 2, 8));
        t.put("encoder.layers.0.attn.lora_B.weight", Nd4j.ones(DataType.FLOAT, 8, 2));
        Path dir = tmp.resolve("foreign");
        new PeftAdapter(LoraConfig.lora(2, 4, Targets.names("attn")), t).write(dir);
        try (TensorSource base = Checkpoints.open(folder)) {
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> SongBloomLoader.withAdapterMerged(base, dir));
            assertTrue(e.getMessage().contains("encoder.layers.0.attn.weight"), e.getMessage());
        }
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
        assertTrue(assertThrows(IllegalArgumentException.class, () -> gen.generate(SongGenerator.Request.of("qzxvkw blorptastic", prompt()),
                SongGenerator.Listener.NONE)).getMessage().startsWith("lyrics"));
        Path muq = modelFolder(tmp.resolve("muq"), "muq");
        Exception kind = assertThrows(SongBloomWeightException.class, () -> SongGenerator.load(muq));
        assertTrue(kind.getMessage().contains("model_type is 'muq'"), kind.getMessage());
        Exception notAdapter = assertThrows(java.io.IOException.class,
                () -> SongGenerator.load(folder, SongGenerator.Options.defaults().withLora(tmp.resolve("adapter"))));
        assertTrue(notAdapter.getMessage().contains("adapter_config.json is missing"), notAdapter.getMessage());
        assertFalse(Files.exists(tmp.resolve("adapter")));
    }

    @Test
    void aCheckpointWithModulesTheConfigDoesNotBuildIsRefusedListingThem() throws Exception {
        Path dir = modelFolder(tmp.resolve("extra"), "songbloom");
        try (TensorSource w = Checkpoints.open(dir.resolve("model.safetensors"))) {
            Map<String, INDArray> all = new LinkedHashMap<>();
            for (String n : w.names()) all.put(n, w.load(n));
            all.put("model.pre_norm.weight", Nd4j.ones(DataType.FLOAT, 3, 2));   // a module (norm: pre_norm) this build lacks
            all.put("vae.vae.something.else", Nd4j.ones(DataType.FLOAT, 1));                               // not SongBloom's: ignored
            SafeTensorsWriter.write(dir.resolve("model.safetensors"), SafeTensorsWriter.arrays(all), Map.of());
        }
        Exception e = assertThrows(Exception.class, () -> SongGenerator.load(dir));
        assertTrue(e.getMessage().contains("unused 1:\n    model.pre_norm.weight [3, 2]"), e.getMessage());
        assertTrue(e.getMessage().contains("the SongBloom model in"), e.getMessage());
    }
}
