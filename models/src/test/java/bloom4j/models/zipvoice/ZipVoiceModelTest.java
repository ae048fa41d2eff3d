package bloom4j.models.zipvoice;

import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The zipvoice-fm-decoder fixture through the parity harness, and the rules around the networks. */
class ZipVoiceModelTest {

    @Test void parityPasses() throws Exception {
        assertEquals(25, TestFixtures.assertParityReport("zipvoice-fm-decoder").lines().stream().filter(ParityReport.Line::numeric).count());
    }

    @Test void textConditionRepeatsEachTokenAndFillsTheRestWithThePad() {
        // 3 tokens (+ the appended pad at position 3) over 10 frames: avg 3, frames 0-8 read 0,0,0,1,1,1,2,2,2, frame 9 reads 3;
        // 2 tokens over 1 frame: avg 0, every frame reads the pad position 2; batch padding reads the pad position too
        INDArray enc = Nd4j.create(DataType.FLOAT, 2, 4, 1);
        for (int i = 0; i < 2; i++) for (int s = 0; s < 4; s++) enc.putScalar(new int[] {i, s, 0}, 10 * i + s);
        ZipVoiceModel.TextCondition tc = ZipVoiceModel.textCondition(enc, new int[] {3, 2}, new int[] {10, 1});
        assertArrayEquals(new float[] {0, 0, 0, 1, 1, 1, 2, 2, 2, 3}, tc.condition().reshape(2, 10).getRow(0).toFloatVector());
        assertArrayEquals(new float[] {12, 12, 12, 12, 12, 12, 12, 12, 12, 12}, tc.condition().reshape(2, 10).getRow(1).toFloatVector());
        assertArrayEquals(new float[] {0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, tc.padMask().getRow(1).toFloatVector());
        assertEquals(0, tc.padMask().getRow(0).sumNumber().intValue());
    }

    @Test void predictedLengthAndTimeGrid() {
        assertEquals(13 + (int) Math.ceil(13f / 4f * 8f / 1f), ZipVoiceModel.predictedFrames(13, 4, 8, 1f));
        assertEquals(10 + 20, ZipVoiceModel.predictedFrames(10, 5, 5, 0.5f));
        float[] t = ZipVoiceModel.timesteps(4, 0.5f);
        assertArrayEquals(new float[] {0f, 0.25f / 1.75f, 0.5f / 1.5f, 0.75f / 1.25f, 1f}, t, 1e-7f);
        assertThrows(IllegalArgumentException.class, () -> new ZipVoiceModel.SamplerOptions(0, 1f, 0.5f, 1f));
        assertEquals(8, ZipVoiceModel.SamplerOptions.defaults(true).numStep());
        assertEquals(16, ZipVoiceModel.SamplerOptions.defaults(false).numStep());
    }

    @Test void folderErrorsNameTheFile(@TempDir Path tmp) throws Exception {
        Path src = TestFixtures.dir("zipvoice-fm-decoder");
        Path dir = Files.createDirectories(tmp.resolve("zv"));
        Files.copy(src.resolve("model.pt"), dir.resolve("model.pt"));
        Files.copy(src.resolve("model.json"), dir.resolve("model.json"));
        Exception e = assertThrows(java.io.FileNotFoundException.class, () -> ZipVoiceModel.load(dir));
        assertTrue(e.getMessage().contains("tokens.txt"), e.getMessage());
        List<String> lines = Files.readAllLines(src.resolve("tokens.txt"));
        Files.write(dir.resolve("tokens.txt"), lines.subList(0, lines.size() - 1));
        e = assertThrows(IllegalArgumentException.class, () -> ZipVoiceModel.load(dir));
        assertTrue(e.getMessage().contains("embed.weight") && e.getMessage().contains("23 tokens"), e.getMessage());
        Files.write(dir.resolve("tokens.txt"), lines);
        Files.writeString(dir.resolve("model.json"), Files.readString(src.resolve("model.json")).replace("\"fm_decoder_dim\": 32",
                "\"fm_decoder_dim\": 48"));
        e = assertThrows(RuntimeException.class, () -> ZipVoiceModel.load(dir));
        assertTrue(e.getMessage().contains("fm_decoder.in_proj.weight"), e.getMessage());
    }
}
