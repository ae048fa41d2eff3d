package bloom4j.train.sketch;

import bloom4j.models.muq.MuqModel;
import bloom4j.models.songbloom.SketchTokenException;
import bloom4j.models.vq.CodebookFile;
import bloom4j.models.vq.Distance;
import bloom4j.models.vq.EmaVectorQuantizer;
import bloom4j.models.vq.VqConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SketchExtractorTest {
    static MuqModel muq;

    @BeforeAll static void load() throws IOException { muq = MuqModel.load(TestAudio.tinyMuq()); }

    static Path codebook(Path file, int k, long seed, int layer) throws IOException {
        EmaVectorQuantizer vq = EmaVectorQuantizer.create(VqConfig.defaults(64, k).withDistance(Distance.COSINE), seed);
        CodebookFile.write(file, vq, Map.of("muq_layer", Integer.toString(layer)));
        return file;
    }

    static SketchExtractor.Result run(SketchExtractor.Options o, ByteArrayOutputStream log) throws IOException {
        return SketchExtractor.run(o, muq, AudioReader.files(), false, new PrintStream(log, true));
    }

    @Test void extractsAlignedCachedSketchesAndRefusesAnotherCodebook(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("songs");
        TestAudio.wav(data.resolve("a.wav"), 2.01, 24_000, 1);           // 48240 samples: 50 latent frames, 51 MuQ tokens
        TestAudio.wav(data.resolve("sub/b.wav"), 1.5, 24_000, 2);
        Path cb = codebook(tmp.resolve("cb.safetensors"), 16, 3, 2);
        Path out = tmp.resolve("sketch");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SketchExtractor.Options o = new SketchExtractor.Options(data, cb, out, TestAudio.tinyMuq(), -1, null, false);
        SketchExtractor.Result r = run(o, log);
        assertEquals(2, r.written());
        assertEquals(2, r.layer());
        String sha = CodebookFile.read(cb).sha256();
        int[] a = SketchExtractor.readSketch(out, "a", sha);
        assertEquals(50, a.length);
        assertEquals(51, muq.tokens(48_240));
        assertTrue(java.util.Arrays.stream(a).allMatch(i -> i >= 0 && i < 16));
        assertEquals(37, SketchExtractor.readSketch(out, "sub__b", sha).length);   // 36000 samples: ⌊72000/1920⌋ = 37

        // the tokens are the codebook's nearest codes of MuQ layer 2, cut to the latent length
        float[] h = muq.encode(AudioReader.at24k(AudioReader.files().read(data.resolve("a.wav")), data), 2);
        assertArrayEquals(java.util.Arrays.copyOf(CodebookFile.read(cb).nearest(h, h.length / 64), 50), a);

        // rerun: cached
        assertEquals(2, run(o, log).cached());
        // a truncated or altered sketch file is recomputed, not counted as done
        Path npy = out.resolve("a.sketch.npy");
        byte[] good = Files.readAllBytes(npy);
        Files.write(npy, java.util.Arrays.copyOf(good, good.length - 8));
        SketchExtractor.Result truncated = run(o, log);
        assertEquals(1, truncated.written());
        assertEquals(1, truncated.cached());
        assertArrayEquals(good, Files.readAllBytes(npy), "recomputed to the same bytes");
        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 1;
        Files.write(npy, flipped);
        assertEquals(1, run(o, log).written(), "same size, other bytes: the checksum catches it");
        assertArrayEquals(good, Files.readAllBytes(npy));
        // another codebook into the same folder: refused before any work
        Path other = codebook(tmp.resolve("other.safetensors"), 16, 4, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> run(new SketchExtractor.Options(data, other, out, TestAudio.tinyMuq(), -1, null, false), log));
        assertTrue(e.getMessage().contains("must not mix"), e.getMessage());
        // and training refuses a sketch of another codebook
        String otherSha = CodebookFile.read(other).sha256();
        assertThrows(IllegalStateException.class, () -> SketchExtractor.readSketch(out, "a", otherSha));
        // --overwrite replaces them
        assertEquals(2, run(new SketchExtractor.Options(data, other, out, TestAudio.tinyMuq(), -1, null, true), log).written());
        assertEquals(50, SketchExtractor.readSketch(out, "a", otherSha).length);
        // a changed song is redone
        TestAudio.wav(data.resolve("a.wav"), 1.0, 24_000, 5);
        Files.setLastModifiedTime(data.resolve("a.wav"), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        SketchExtractor.Result again = run(new SketchExtractor.Options(data, other, out, TestAudio.tinyMuq(), -1, null, false), log);
        assertEquals(1, again.written());
        assertEquals(1, again.cached());
    }

    @Test void guardsTheSketchVocabularyOfAModelFolder(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("songs");
        TestAudio.wav(data.resolve("a.wav"), 1.0, 24_000, 1);
        Path cb = codebook(tmp.resolve("cb.safetensors"), 16, 3, 2);
        Path small = TestAudio.songbloomFolder(tmp.resolve("model-8"), 8);          // skeleton_emb 10 rows: num_pitch 8
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        SketchTokenException e = assertThrows(SketchTokenException.class,
                () -> run(new SketchExtractor.Options(data, cb, tmp.resolve("o1"), TestAudio.tinyMuq(), -1, small, false), log));
        assertTrue(e.getMessage().contains("has 16 codes") && e.getMessage().contains("vocabulary of 8 codes")
                && e.getMessage().contains("--codebook-size 8"), e.getMessage());
        Path released = TestAudio.songbloomFolder(tmp.resolve("model-16384"), 16384);
        run(new SketchExtractor.Options(data, cb, tmp.resolve("o2"), TestAudio.tinyMuq(), -1, released, false), log);
        assertTrue(log.toString().contains("do not share the pretrained model's sketch semantics"), log.toString());
    }

    @Test void layerMustBeTheCodebooks(@TempDir Path tmp) throws IOException {
        Path data = tmp.resolve("songs");
        TestAudio.wav(data.resolve("a.wav"), 1.0, 24_000, 1);
        Path cb = codebook(tmp.resolve("cb.safetensors"), 16, 3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(new SketchExtractor.Options(data, cb,
                tmp.resolve("o"), TestAudio.tinyMuq(), 1, null, false), new ByteArrayOutputStream()));
        assertTrue(e.getMessage().contains("trained on MuQ layer 2"), e.getMessage());
        // 48 kHz input is resampled to MuQ's 24 kHz; the latent count comes from the 48 kHz length (1.01 s: 48480 samples -> 25)
        TestAudio.wav(tmp.resolve("s48/a.wav"), 1.01, 48_000, 1);
        SketchExtractor.Result r = run(new SketchExtractor.Options(tmp.resolve("s48"), cb, tmp.resolve("o48"), TestAudio.tinyMuq(), -1,
                null, false), new ByteArrayOutputStream());
        assertEquals(25, r.frames());
    }
}
