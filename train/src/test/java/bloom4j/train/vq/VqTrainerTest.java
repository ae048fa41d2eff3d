package bloom4j.train.vq;

import bloom4j.models.songbloom.SketchTokenException;
import bloom4j.models.vq.CodebookFile;
import bloom4j.models.vq.Distance;
import bloom4j.train.sketch.TestAudio;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class VqTrainerTest {
    static final PrintStream QUIET = new PrintStream(PrintStream.nullOutputStream());

    /** Frames of dim 2 around four centres, a different draw per file; fails on the call numbered {@code failAt} (from 1). */
    static final class Clusters implements FrameSource {
        int calls;
        final int failAt;

        Clusters(int failAt) { this.failAt = failAt; }

        @Override public int dim() { return 2; }

        @Override public String describe() { return "clusters"; }

        @Override public float[] frames(Path audio) throws IOException {
            if (++calls == failAt) throw new IOException("interrupted (test)");
            Random r = new Random(audio.getFileName().toString().hashCode());
            float[][] c = {{3, 3}, {-3, 3}, {3, -3}, {-3, -3}};
            float[] x = new float[2 * 300];
            for (int i = 0; i < 300; i++) {
                float[] m = c[r.nextInt(4)];
                x[2 * i] = m[0] + (float) (0.1 * r.nextGaussian());
                x[2 * i + 1] = m[1] + (float) (0.1 * r.nextGaussian());
            }
            return x;
        }
    }

    static List<Path> files(Path dir, int n) throws IOException {
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Path f = dir.resolve("song" + i + ".wav");
            Files.createDirectories(dir);
            Files.writeString(f, "x" + i);     // the clusters source never reads the file
            out.add(f);
        }
        return out;
    }

    static VqTrainOptions options(Path data, Path out, Path model, int k) {
        return new VqTrainOptions(data, out, TestAudio.tinyMuq(), 12, k, 3, 128, Distance.EUCLIDEAN, 0.9, 0.5, true, 10, 7, model);
    }

    @Test void learnsTheClustersAndReportsUsage(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data");
        List<Path> files = files(data, 4);
        VqTrainer.Result r = VqTrainer.train(options(data, tmp.resolve("cb.safetensors"), null, 4), new Clusters(0), files, false, QUIET);
        assertEquals(4, r.usage().used());
        assertTrue(r.usage().entropyBits() > 1.8, r.usage().toString());
        CodebookFile.Loaded cb = CodebookFile.read(r.codebook());
        assertEquals(r.sha256(), cb.sha256());
        assertEquals("12", cb.metadata().get("muq_layer"));
        assertEquals(4 * 3 * 300, Long.parseLong(cb.metadata().get("num_frames_seen")));
        for (int c = 0; c < 4; c++) assertEquals(3, Math.abs(cb.codebook()[2 * c]), 0.2);
        assertFalse(Files.exists(tmp.resolve("cb.safetensors.resume.safetensors")));
        assertTrue(Files.isDirectory(tmp.resolve("cb.safetensors.features")));
    }

    @Test void anInterruptedRunResumesToTheSameCodebook(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data");
        List<Path> files = files(data, 5);
        VqTrainer.Result straight = VqTrainer.train(options(data, tmp.resolve("a.safetensors"), null, 4), new Clusters(0), files, false, QUIET);

        Path out = tmp.resolve("b.safetensors");
        IOException e = assertThrows(IOException.class,
                () -> VqTrainer.train(options(data, out, null, 4), new Clusters(4), files, false, QUIET));   // fails at the 4th song of epoch 1
        assertTrue(e.getMessage().contains("interrupted"));
        assertTrue(Files.exists(tmp.resolve("b.safetensors.resume.safetensors")));
        // other options: the state is refused, not mixed
        VqTrainOptions other = new VqTrainOptions(data, out, TestAudio.tinyMuq(), 12, 5, 3, 128, Distance.EUCLIDEAN, 0.9, 0.5, true, 10, 7, null);
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> VqTrainer.train(other, new Clusters(0), files, false, QUIET));
        assertTrue(s.getMessage().contains("another run"), s.getMessage());

        VqTrainer.Result resumed = VqTrainer.train(options(data, out, null, 4), new Clusters(0), files, false, QUIET);
        assertTrue(resumed.resumed());
        assertEquals(straight.sha256(), resumed.sha256());
        assertEquals(straight.steps(), resumed.steps());
        assertArrayEquals(CodebookFile.read(straight.codebook()).embedAvg(), CodebookFile.read(resumed.codebook()).embedAvg());
    }

    @Test void theCodebookMustFitTheModelsSketchVocabulary(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("data");
        List<Path> files = files(data, 1);
        Path model = TestAudio.songbloomFolder(tmp.resolve("model"), 128);   // skeleton_emb 130 rows: the class default, not the release
        SketchTokenException e = assertThrows(SketchTokenException.class, () -> VqTrainer.train(options(data, tmp.resolve("cb.safetensors"),
                model, 16384), new Clusters(0), files, false, QUIET));
        assertTrue(e.getMessage().contains("16384 codes") && e.getMessage().contains("vocabulary of 128 codes")
                && e.getMessage().contains("130 rows") && e.getMessage().contains("--codebook-size 128"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("cb.safetensors")));
        VqTrainer.train(options(data, tmp.resolve("cb.safetensors"), model, 4), new Clusters(0), files, false, QUIET);   // 4 <= 128: fine
    }

    @org.junit.jupiter.api.Test
    void aCodebookThatCannotFitIsRefusedSayingWhatFits() {
        // 1e8 codes of dimension 1024: ~1.6 TB; the check runs before anything is allocated.
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> VqTrainer.requireMemoryFor(100_000_000, 1024, 4096, 8_000_000_000L));
        String m = e.getMessage();
        org.junit.jupiter.api.Assertions.assertTrue(m.contains("--codebook-size 100000000") && m.contains("at most"), m);
        long fits = Long.parseLong(m.replaceAll(".*at most (\\d+) codes fit.*", "$1"));
        org.junit.jupiter.api.Assertions.assertTrue(VqTrainer.bytesNeeded(fits, 1024, 4096) <= 8_000_000_000L);
        org.junit.jupiter.api.Assertions.assertTrue(VqTrainer.bytesNeeded(fits + 1, 1024, 4096) > 8_000_000_000L, "the largest that fits");
        VqTrainer.requireMemoryFor(16384, 1024, 4096, 8_000_000_000L);      // the released size fits in 8 GB
        org.junit.jupiter.api.Assertions.assertTrue(VqTrainer.availableBytes() > 0);
    }
}
