package bloom4j.models.vae;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.models.GaussianNoise;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.ParityRunner;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The oobleck-vae fixture through the parity harness (same checks as {@code bloom4j parity}), plus loading errors and chunking. */
class OobleckVaeTest {

    static Path fixture() throws URISyntaxException {
        return TestFixtures.dir("oobleck-vae");
    }

    @Test void parityPasses() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(fixture(), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertTrue(o.passed(), out);
        assertTrue(o.report().lines().stream().filter(ParityReport.Line::numeric).count() >= 11, out);
    }

    static OobleckVae load(Path dir, OobleckVae.Parts parts) throws Exception {
        OobleckConfig c = OobleckConfig.fromJson(new ObjectMapper().readTree(dir.resolve("vae_config.json").toFile()));
        try (TensorSource src = Checkpoints.open(dir.resolve("model.pt"))) {
            return OobleckVae.load(src, "", c, parts);
        }
    }

    @Test void chunkedDecodeLengthsAndSingleChunkCases() throws Exception {
        OobleckVae vae = load(fixture(), OobleckVae.Parts.DECODER);
        INDArray z = GaussianNoise.seeded(3).next(1, 4, 37);
        assertEquals(8 * 37, vae.decodeChunked(z, 8, 4).size(2));                  // chunks at 0, 4, ..., 28 and a final one at 29
        INDArray z8 = GaussianNoise.seeded(4).next(1, 4, 8);                         // T == chunk: one chunk upstream too
        assertTrue(vae.decode(z8).equalsWithEps(vae.decodeChunked(z8, 8, 4), 0));
        INDArray z3 = GaussianNoise.seeded(5).next(2, 4, 3);                         // T < chunk: upstream crashes, here one pass
        assertTrue(vae.decode(z3).equalsWithEps(vae.decodeChunked(z3, 8, 4), 0));
        assertThrows(IllegalArgumentException.class, () -> vae.decodeChunked(z, 8, 8));
        assertThrows(IllegalStateException.class, () -> vae.encoderOutput(Nd4j.zeros(1, 2, 64)));
    }

    /**
     * The windowed encode equals one pass over the whole signal once each window has enough context (the release-stride tiny VAE,
     * 64 frames in windows of 16 with 20 frames of context each side), and cuts the audio to whole frames.
     */
    @Test void chunkedEncodeEqualsOnePass() {
        OobleckConfig c = OobleckConfig.fromJson(bloom4j.models.songbloom.TinySongBloom.vaeConfig(new com.fasterxml.jackson.databind.ObjectMapper()));
        OobleckVae vae = OobleckVae.random(c, OobleckVae.Parts.ALL, 5);
        int r = c.downsamplingRatio();
        org.nd4j.linalg.api.ndarray.INDArray audio = org.nd4j.linalg.factory.Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 2, 64L * r + 100)
                .muli(0.3);
        org.nd4j.linalg.api.ndarray.INDArray whole = vae.encoderOutput(audio.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 64L * r)).dup('c'));
        org.nd4j.linalg.api.ndarray.INDArray chunked = vae.encoderOutputChunked(audio, 16, 20);
        assertArrayEquals(whole.shape(), chunked.shape());
        double scale = whole.amaxNumber().doubleValue(), diff = whole.sub(chunked).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5 * Math.max(1, scale), "max |chunked − whole| = " + diff + " (scale " + scale + ")");
    }

    @Test void wrongConfigNamesTheKeys() throws Exception {
        Path dir = fixture();
        OobleckConfig wrong = new OobleckConfig(48000, 2, 4, 8, java.util.List.of(1, 2), java.util.List.of(2, 4), true, false);
        try (TensorSource src = Checkpoints.open(dir.resolve("model.pt"))) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> OobleckVae.load(src, "", wrong, OobleckVae.Parts.ALL));
            assertTrue(e.getMessage().contains("'encoder.layers.0.bias': expected [8], got [4]"), e.getMessage());
            OobleckConfig right = OobleckConfig.fromJson(new ObjectMapper().readTree(dir.resolve("vae_config.json").toFile()));
            e = assertThrows(RuntimeException.class, () -> OobleckVae.load(src, "vae.vae.", right, OobleckVae.Parts.DECODER));
            assertTrue(e.getMessage().contains("vae.vae.decoder.layers.0.bias [8]\n    vae.vae.decoder.layers.0.weight [8, 4, 7]") && e.getMessage().contains("VAE JSON config"),
                    e.getMessage());
            assertEquals("", OobleckVae.detectPrefix(src));
        }
        assertEquals(1920, OobleckConfig.songBloom().downsamplingRatio());
        assertEquals(25.0, OobleckConfig.songBloom().frameRate());
    }
}
