package bloom4j.train.sketch;

import bloom4j.tensor.DType;
import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.SafeTensorsWriter;

import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

/** Test helpers: 16-bit WAV files, the tiny MuQ model, a fake SongBloom folder with a given sketch vocabulary. */
public final class TestAudio {
    private TestAudio() {}

    /** A 16-bit mono WAV of {@code seconds} of tones and noise at {@code rate}. */
    public static Path wav(Path file, double seconds, int rate, long seed) throws IOException {
        int n = (int) Math.round(seconds * rate);
        Random r = new Random(seed);
        double f0 = 110 + 330 * r.nextDouble();
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            double t = (double) i / rate;
            double v = 0.3 * Math.sin(2 * Math.PI * f0 * t) + 0.1 * Math.sin(2 * Math.PI * 3 * f0 * t) + 0.02 * r.nextGaussian();
            b.putShort((short) Math.round(Math.max(-1, Math.min(1, v)) * 32767));
        }
        AudioFormat fmt = new AudioFormat(rate, 16, 1, true, false);
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (AudioInputStream in = new AudioInputStream(new ByteArrayInputStream(b.array()), fmt, n)) {
            AudioSystem.write(in, AudioFileFormat.Type.WAVE, file.toFile());
        }
        return file;
    }

    /** The tiny MuQ quickstart ships (the muq-encoder fixture's weights: hidden 64, 2 layers), model.safetensors with its config.json beside it. */
    public static Path tinyMuq() {
        try {
            return Path.of(TestAudio.class.getResource("/bloom4j/train/demo/muq-tiny/model.safetensors").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A folder holding just what the sketch guard reads: {@code model.skeleton_emb.weight} with {@code numPitch + 2} rows. */
    public static Path songbloomFolder(Path dir, int numPitch) throws IOException {
        Files.createDirectories(dir);
        ByteBuffer b = ByteBuffer.allocate((numPitch + 2) * 4 * 4).order(ByteOrder.LITTLE_ENDIAN);
        SafeTensorsWriter.write(dir.resolve("model.safetensors"),
                Map.of("model.skeleton_emb.weight", new RawTensor(DType.F32, new long[] {numPitch + 2, 4}, b)), Map.of());
        return dir;
    }
}
