package bloom4j.tensor.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random mutations (byte flips, interesting values, insertions, deletions, truncations) of every torch.save file of the
 * pt-formats fixture, read through the same entry point the product uses ({@link Checkpoints#open} and the full object tree):
 * each mutant either loads or is refused with a {@link CheckpointException}; never another exception, an OutOfMemoryError or a
 * hang.
 */
class CheckpointFuzzTest {

    @Test
    void mutatedTorchFilesLoadOrFailCleanly(@TempDir Path dir) throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        for (String f : List.of("model.pt", "lightning.ckpt", "lightning_omegaconf.ckpt", "dtypes.pt", "dtypes_extra.pt", "views.pt",
                "nested.pt")) {
            seeds.add(Files.readAllBytes(PtFixtureTest.fixtureDir().resolve(f)));
        }
        Fuzz.Stats stats = new Fuzz(77).run(seeds, 450, dir, Duration.ofSeconds(10), CheckpointFuzzTest::readEverything);
        assertTrue(stats.rejected() > 0 && stats.accepted() + stats.rejected() == 7 * 450, stats.toString());
    }

    static void readEverything(Path file) throws Exception {
        try (TensorSource s = Checkpoints.open(file)) {
            for (String n : s.names()) s.raw(n).toINDArray();
        }
        try (PtCheckpoint c = PtCheckpoint.open(file)) {
            for (PtTensor t : c.flatten().values()) t.raw();
        }
    }
}
