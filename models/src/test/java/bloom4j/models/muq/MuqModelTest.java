package bloom4j.models.muq;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The tiny fixture model (conv_dim 8, hidden 64, 2 layers) through the public API: frame counts, windows, long audio, config. */
class MuqModelTest {
    static MuqConfig cfg;
    static MuqModel model;

    @BeforeAll static void load() throws IOException {
        cfg = MuqConfig.fromJson(new ObjectMapper().readTree(TestFixtures.dir("muq-encoder").resolve("config.json").toFile()));
        model = MuqModel.load(TestFixtures.dir("muq-encoder").resolve("model.safetensors"));   // config.json is its sibling
    }

    static float[] noise(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (0.1 * r.nextGaussian());
        return x;
    }

    @Test void frameCountsFollowTheStem() {
        MuqConfig c = MuqConfig.large();
        assertEquals(750, c.tokens(720_000));      // 30 s
        assertEquals(250, c.tokens(240_000));      // 10 s
        assertEquals(50, c.tokens(48_000));
        assertEquals(1, c.tokens(960));            // 4 mel frames -> 2 -> 1
        assertEquals(2, c.tokens(1200));           // 5 mel frames -> 3 -> 2
        assertEquals(0, c.tokens(239));
        for (long l = 1025; l < 5000; l += 37) {    // T' = ceil(L / 960) up to the last partial mel frame
            assertEquals((l / 240 + 3) / 4, c.tokens(l), "L=" + l);
        }
    }

    @Test void configFromTheHubFileAndFromAModelFolder() {
        assertEquals(64, cfg.encoderDim());
        assertEquals(2, cfg.encoderDepth());
        assertEquals(4, cfg.heads());
        assertEquals(7, cfg.depthwiseKernel());
        assertEquals(256, cfg.stemFeatures());
        ObjectMapper m = new ObjectMapper();
        ObjectNode folder = m.createObjectNode();
        folder.put("model_type", "muq");
        folder.set("upstream_config", m.valueToTree(cfg).isEmpty() ? null : readFixtureConfig(m));
        assertEquals(cfg, MuqConfig.fromJson(folder));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MuqConfig.fromJson(m.createObjectNode()));
        assertTrue(e.getMessage().contains("not a MuQ config"), e.getMessage());
    }

    private static com.fasterxml.jackson.databind.JsonNode readFixtureConfig(ObjectMapper m) {
        try {
            return m.readTree(TestFixtures.dir("muq-encoder").resolve("config.json").toFile());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test void everyHiddenStateHasTheSameFramesAndLayerZeroIsTheStem() {
        float[] x = noise(24_000, 1);
        float[][] h = model.encode(x, new int[] {0, 1, 2}, null);
        for (float[] a : h) assertEquals(25 * 64, a.length);
        float[] mel = model.frontEnd().features(x);
        assertArrayEquals(model.encoder().stem(mel, 100, 400), h[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.encode(x, 3));
        assertTrue(e.getMessage().contains("0 (conv stem) .. 2"), e.getMessage());
    }

    @Test void stemChunksEqualOnePass() {
        float[] x = noise(3 * 24_000 + 517, 2);
        float[] mel = model.frontEnd().features(x);
        int frames = (int) cfg.melFrames(x.length);
        float[] whole = model.encoder().stem(mel, frames, 4 * frames);
        for (int chunk : new int[] {4, 12, 40, 64}) assertArrayEquals(whole, model.encoder().stem(mel, frames, chunk), 1e-5f, "chunk " + chunk);   // GEMM blocking only
    }

    @Test void windowsCoverTheSongAndOneWindowIsOnePass() {
        float[] x = noise(8 * 24_000 + 300, 3);                       // 201 tokens
        int tokens = (int) cfg.tokens(x.length);
        float[] single = model.withOptions(new MuqModel.Options(1000, 0, 384)).encode(x, 2);
        float[] windowed = model.withOptions(new MuqModel.Options(60, 10, 64)).encode(x, 2);
        assertEquals(tokens * 64, single.length);
        assertEquals(single.length, windowed.length);
        INDArray a = Nd4j.create(single, new long[] {tokens, 64}, 'c'), b = Nd4j.create(windowed, new long[] {tokens, 64}, 'c');
        for (int t = 0; t < tokens; t++) {
            // layer outputs end in a LayerNorm: every row has unit-scale variance, so a row left unfilled would show as all zeros
            assertTrue(b.getRow(t).norm2Number().doubleValue() > 1, "token " + t + " was not filled");
        }
        double cos = a.mul(b).sumNumber().doubleValue() / (a.norm2Number().doubleValue() * b.norm2Number().doubleValue());
        assertTrue(cos > 0.5, "windowed and single-pass states should agree broadly, cosine " + cos);
        // each window's core is the encoder run on that window's frames of the whole-song mel: [0, 60) keeps [0, 40), [30, 90)
        // keeps [40, 80), ..., the last window [141, 201) keeps [160, 201)
        int[][] windows = {{0, 60, 0, 40}, {30, 90, 40, 80}, {141, 201, 160, 201}};
        for (int[] w : windows) {
            int m0 = 4 * w[0], m1 = Math.min((int) cfg.melFrames(x.length), 4 * w[1]);
            float[] h0 = model.encoder().stem(model.frontEnd().features(x, m0, m1 - m0), m1 - m0, 64);
            float[] h = model.encoder().hiddenState(h0, w[1] - w[0], 2);
            float[] want = java.util.Arrays.copyOfRange(h, (w[2] - w[0]) * 64, (w[3] - w[0]) * 64);
            assertArrayEquals(want, java.util.Arrays.copyOfRange(windowed, w[2] * 64, w[3] * 64), 1e-5f, "window at " + w[0]);
        }
    }

    @Test void tenMinutesRunInBoundedWindows() {
        float[] x = noise(600 * 24_000, 4);
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        int[] windows = {0};
        // the stem chunk only bounds memory at the real size; the tiny model's stem fits in one pass per window
        float[] h = model.withOptions(new MuqModel.Options(750, 125, 3000)).encode(x, new int[] {2}, t -> windows[0]++)[0];
        assertEquals(15_000 * 64, h.length);
        assertEquals(30, windows[0]);                                 // 15000 tokens / 500-token cores
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 1L << 30, "heap grew by " + (after - before));
    }

    @Test void unknownKeysAreAnErrorDeadOnesAreNot() throws IOException {
        assertEquals(14, model.unusedKeys().size());
        assertTrue(model.unusedKeys().contains("model.conformer.pos_conv_embed.conv.weight_g"));
        assertEquals("model.", MuqModel.detectPrefix(List.of("model.conv.linear.weight")));
        assertEquals("mulan.audio.model.model.", MuqModel.detectPrefix(List.of("mulan.audio.model.model.conv.linear.weight")));
        assertThrows(IllegalArgumentException.class, () -> MuqModel.detectPrefix(List.of("encoder.weight")));
        try (TensorSource src = Checkpoints.open(TestFixtures.dir("muq-encoder").resolve("model.pt"))) {
            MuqConfig wrongDepth = new MuqConfig(24000, 2048, 240, 128, cfg.statMean(), cfg.statStd(), 8, 64, 1, 4, 128, 7, 1e-5, 10000);
            bloom4j.nn.ParameterException e = assertThrows(bloom4j.nn.ParameterException.class,
                    () -> MuqModel.load(src, wrongDepth, MuqModel.Options.defaults()));
            assertTrue(e.getMessage().contains("unused") && e.getMessage().contains("model.conformer.layers.1."), e.getMessage());
            assertTrue(e.getMessage().contains("is it a MuQ checkpoint"), e.getMessage());
        }
    }

    @Test void withoutAConfigMuqIsNotGuessed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path pt = tmp.resolve("model.pt");
        java.nio.file.Files.copy(TestFixtures.dir("muq-encoder").resolve("model.pt"), pt);
        IOException e = assertThrows(IOException.class, () -> MuqModel.load(pt));
        assertTrue(e.getMessage().startsWith(pt + ": no config.json next to it"), e.getMessage());
    }
}
