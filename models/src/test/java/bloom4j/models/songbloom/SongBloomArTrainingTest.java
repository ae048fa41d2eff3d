package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The teacher-forced AR training graph against upstream's training forward (fixture songbloom-train-forward, eval case). */
class SongBloomArTrainingTest {

    @Test void arLogitsAndTargetsMatchUpstream() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-train-forward"); TensorSource w = Checkpoints.open(f.checkpoint())) {
            SongBloomConfig c = SongBloomConfig.resolve(f.config(), w);
            INDArray sketchArr = f.tensor("x_sketch");
            int b = (int) sketchArr.size(0), t = (int) sketchArr.size(1);
            INDArray prefix = Nd4j.concat(1, f.tensor("prefix_prompt"), f.tensor("prefix_lyrics"));
            SongBloomArTraining g = SongBloomArTraining.build(c, ParamSource.of(w), LoadOptions.inference(), b, (int) prefix.size(1), t);
            long[][] sketch = new long[b][];
            for (int i = 0; i < b; i++) sketch[i] = sketchArr.getRow(i).toLongVector();
            INDArray latents = f.tensor("x_latent").permute(0, 2, 1);          // upstream [B, latent, T] -> frames × channels
            Map<String, INDArray> out = g.output(g.feed(prefix, sketch, latents), g.logits().name(), g.h().name());

            INDArray want = f.tensor("ar_logit");
            INDArray got = out.get(g.logits().name()).reshape(want.shape());
            assertEquals(0.0, got.sub(want.castTo(DataType.FLOAT)).amaxNumber().doubleValue(), 2e-4, "ar_logit");
            assertArrayEquals(f.tensor("ar_target").reshape(-1).toLongVector(), g.targets(sketch, f.tensor("x_len").toLongVector()), "ar_target");
            assertEquals(c.numPitch() + 1, g.ignoreId());

            // h at the valid blocks: rows of all sequences' first x_len/S blocks, as upstream concatenates them.
            INDArray hWant = f.tensor("nar_in_h");
            long[] xLen = f.tensor("x_len").toLongVector();
            INDArray h = out.get(g.h().name());
            int row = 0, n = t / c.blockSize();
            for (int i = 0; i < b; i++) {
                for (int k = 0; k < xLen[i] / c.blockSize(); k++, row++) {
                    assertEquals(0.0, h.getRow((long) i * n + k).sub(hWant.getRow(row)).amaxNumber().doubleValue(), 2e-4, "h " + i + "," + k);
                }
            }
        }
    }
}
