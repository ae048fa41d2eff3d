package bloom4j.train.sketch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SketchAlignmentTest {

    @Test void latentFramesFollowTheVaeHop() {
        assertEquals(250, SketchAlignment.latentFrames(480_000, 48_000));   // 10 s: 480000 -> ... -> 250
        assertEquals(249, SketchAlignment.latentFrames(480_000 - 1, 48_000));
        assertEquals(250, SketchAlignment.latentFrames(240_000, 24_000));   // the same 10 s at 24 kHz: 480000 samples at 48 kHz
        assertEquals(250, SketchAlignment.latentFrames(441_000, 44_100));
    }

    @Test void muqGivesTheLatentCountOrOneMoreForEveryLength() {
        for (long l48 = 1920; l48 < 1920 * 40; l48 += 7) {
            long lat = SketchAlignment.latentFrames(l48, 48_000);
            long muq = SketchAlignment.muqTokens((l48 + 1) / 2);          // torchaudio's resampled length at 24 kHz
            assertTrue(muq == lat || muq == lat + 1, "L48=" + l48 + ": MuQ " + muq + ", latent " + lat);
        }
        for (long l24 = 960; l24 < 960 * 40; l24 += 5) {                    // audio already at 24 kHz
            long lat = SketchAlignment.latentFrames(l24, 24_000);
            long muq = SketchAlignment.muqTokens(l24);
            assertTrue(muq == lat || muq == lat + 1, "L24=" + l24);
        }
    }

    @Test void alignKeepsTheFirstLatentFramesAndRefusesOtherAudio() {
        assertArrayEquals(new int[] {5, 6, 7}, SketchAlignment.align(new int[] {5, 6, 7, 8}, 3));
        assertArrayEquals(new int[] {5, 6, 7}, SketchAlignment.align(new int[] {5, 6, 7}, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SketchAlignment.align(new int[] {1, 2}, 4));
        assertTrue(e.getMessage().contains("different audio"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SketchAlignment.align(new int[] {1, 2, 3, 4, 5, 6}, 4));
    }

    @Test void npyRoundTripsWithAnAlignedHeader(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("a.sketch.npy");
        int[] v = {0, 1, 16383, 42};
        Npy.writeInt32(f, v);
        byte[] bytes = java.nio.file.Files.readAllBytes(f);
        assertEquals(0, (bytes.length - 16) % 64);                     // header padded to 64 bytes, then 4 int32
        assertArrayEquals(v, Npy.readInts(f));
    }
}
