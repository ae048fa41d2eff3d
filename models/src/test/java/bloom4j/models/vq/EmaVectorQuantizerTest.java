package bloom4j.models.vq;

import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class EmaVectorQuantizerTest {

    /** n rows of dim 2 around {@code centres}, with small noise. */
    static float[] clusters(float[][] centres, int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * 2];
        for (int i = 0; i < n; i++) {
            float[] c = centres[i % centres.length];
            x[2 * i] = c[0] + (float) (0.01 * r.nextGaussian());
            x[2 * i + 1] = c[1] + (float) (0.01 * r.nextGaussian());
        }
        return x;
    }

    @Test void kmeansInitFindsTheClustersAndTrainingKeepsThem() {
        float[][] centres = {{1, 1}, {-1, 1}, {0, -2}};
        VqConfig cfg = VqConfig.defaults(2, 3).withKmeans(true, 10).withDecay(0.9);
        EmaVectorQuantizer vq = EmaVectorQuantizer.create(cfg, 1);
        assertFalse(vq.initted());
        assertThrows(IllegalStateException.class, () -> vq.quantize(new float[2], 1));
        // rows 0, 1, 2 are one of each cluster: seed k-means with them
        EmaVectorQuantizer.TrainStep s = vq.train(clusters(centres, 300, 2), 300, (rows, count) -> new int[] {0, 1, 2});
        assertTrue(vq.initted());
        assertEquals(0, s.expiredCount());
        float[] e = vq.embed();
        for (int c = 0; c < 3; c++) {
            assertEquals(centres[c][0], e[2 * c], 0.01);
            assertEquals(centres[c][1], e[2 * c + 1], 0.01);
        }
        assertEquals(100, vq.clusterSize()[0], 1e-3);   // k-means sets N = bins; an EMA step with 100 again keeps it
        assertTrue(s.commitmentLoss() < 1e-3f);
        int[] idx = vq.quantize(new float[] {0.9f, 1.1f, 0.1f, -1.9f}, 2).indices();
        assertArrayEquals(new int[] {0, 2}, idx);
        assertEquals(1, vq.steps());
        assertEquals(300, vq.framesSeen());
    }

    @Test void deadCodesAreReplacedByBatchRows() {
        VqConfig cfg = VqConfig.defaults(2, 4).withDeadCodeThreshold(0.5);
        float[] far = {100, 100, 101, 101, 102, 102, 103, 103};
        EmaVectorQuantizer vq = EmaVectorQuantizer.of(cfg, far, far, new float[4], true);
        float[] x = {0, 0, 1, 0, 0, 1};
        // every row goes to code 0 (N = 0.2·3 = 0.6); codes 1..3 stay at 0 < 0.5 and take rows 2, 1, 0
        EmaVectorQuantizer.TrainStep s = vq.train(x, 3, (rows, count) -> {
            assertEquals(3, rows);
            assertEquals(3, count);
            return new int[] {2, 1, 0};
        });
        assertArrayEquals(new boolean[] {false, true, true, true}, s.expired());
        float[] e = vq.embed();
        assertArrayEquals(new float[] {0, 1, 1, 0, 0, 0}, Arrays.copyOfRange(e, 2, 8));
        assertArrayEquals(new float[] {0.6f, 0.5f, 0.5f, 0.5f}, vq.clusterSize(), 1e-6f);   // replaced codes get the threshold
    }

    @Test void seededSamplerDrawsDistinctRowsWhenItCan() {
        RowSampler s = RowSampler.seeded(7);
        int[] a = s.draw(10, 10);
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Arrays.stream(a).sorted().toArray());
        int[] b = s.draw(3, 8);   // fewer rows than codes: with replacement
        assertEquals(8, b.length);
        assertTrue(Arrays.stream(b).allMatch(i -> i >= 0 && i < 3));
    }

    @Test void codebookFileRoundTripsAndDetectsTampering(@TempDir Path tmp) throws IOException {
        VqConfig cfg = VqConfig.defaults(4, 5).withDistance(Distance.COSINE);
        EmaVectorQuantizer vq = EmaVectorQuantizer.create(cfg, 3);
        Path f = tmp.resolve("codebook.safetensors");
        String sha = CodebookFile.write(f, vq, Map.of("muq_layer", "12", "muq_model_id", "OpenMuQ/MuQ-large-msd-iter"));
        CodebookFile.Loaded l = CodebookFile.read(f);
        assertEquals(sha, l.sha256());
        assertEquals(5, l.size());
        assertEquals(4, l.dim());
        assertEquals(Distance.COSINE, l.distance());
        assertEquals(12, l.muqLayer());
        assertArrayEquals(vq.embed(), l.codebook());
        assertTrue(l.hasEmaState());
        // the lookup of the file equals the quantizer's
        float[] x = {1, 2, 3, 4, -1, 0, 2, 0};
        assertArrayEquals(vq.quantize(x, 2).indices(), l.nearest(x, 2));

        byte[] bytes = Files.readAllBytes(f);
        long header = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        bytes[(int) (8 + header + 5 * 4 + 1)] ^= 1;   // a bit of codebook[0] (tensors sorted by name: cluster_size, codebook, ...)
        Path bad = tmp.resolve("bad.safetensors");
        Files.write(bad, bytes);
        IOException e = assertThrows(IOException.class, () -> CodebookFile.read(bad));
        assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
    }

    @Test void aFileWithoutCodebookIsRefused(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("x.safetensors");
        bloom4j.tensor.io.SafeTensorsWriter.write(f, Map.of("something", bloom4j.tensor.io.RawTensor.of(
                org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, 2))), Map.of());
        IOException e = assertThrows(IOException.class, () -> CodebookFile.read(f));
        assertTrue(e.getMessage().contains("holds no VQ codebook"), e.getMessage());
    }

    @Test void importsAVectorQuantizePytorchStateDict() throws IOException {
        CodebookFile.Loaded l = CodebookFile.read(bloom4j.tensor.parity.TestFixtures.dir("vq-ema-d080-t2").resolve("model.pt"));
        assertEquals(129, l.size());
        assertEquals(16, l.dim());
        assertTrue(l.hasEmaState());
        assertEquals("_codebook.embed", l.metadata().get("imported_from"));
    }
}
