package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RotaryEmbeddingTest {

    @Test void invFreqIsTheHfFormula() {
        RotaryEmbedding r = new RotaryEmbedding(64, 32, 20000);   // SongBloom DiT
        float[] f = r.invFreq();
        assertEquals(16, f.length);
        for (int i = 0; i < 16; i++) assertEquals(1 / Math.pow(20000, 2.0 * i / 32), f[i], 1e-7 * f[i]);
        assertEquals(1.0f, f[0]);
    }

    @Test void tablesRepeatHalvesAndPassTheRest() {
        RotaryEmbedding r = new RotaryEmbedding(8, 4, 10000);
        INDArray[] cs = r.tables(3, 2, DataType.DOUBLE);
        assertArrayEquals(new long[] {1, 2, 1, 8}, cs[0].shape());
        for (int t = 0; t < 2; t++) {
            double[][] ref = Reference.ropeAngles(3 + t, 4, 10000);
            for (int j = 0; j < 4; j++) {
                assertEquals(ref[0][j % 2], cs[0].getDouble(0, t, 0, j), 0);
                assertEquals(ref[1][j % 2], cs[1].getDouble(0, t, 0, j), 0);
                // and within fp32 rounding of the exact angle pos / base^(2i/r)
                assertEquals(Math.cos((3 + t) / Math.pow(10000, 2.0 * (j % 2) / 4)), cs[0].getDouble(0, t, 0, j), 1e-6);
            }
            for (int j = 4; j < 8; j++) {
                assertEquals(1.0, cs[0].getDouble(0, t, 0, j));
                assertEquals(0.0, cs[1].getDouble(0, t, 0, j));
            }
        }
    }

    /** rows [B·T, H·dh] -> rotated [B, T, H, dh], against the slice-based rotate_half reference. */
    private static void checkAgainstReference(int dh, int rot, long start, boolean dynamicShape) {
        int b = 2, t = 3, h = 2;
        RotaryEmbedding r = new RotaryEmbedding(dh, rot, 10000);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, dynamicShape ? -1 : b, dynamicShape ? -1 : t, h * dh);
        RotaryEmbedding.Tables tab = r.placeholders(sd, "rope", DataType.DOUBLE);
        SDVariable y = tab.apply(x.reshape(-1, h * dh), h, SeqShape.of(x));
        INDArray xv = Rand.normal(7, b, t, h * dh);
        Map<String, INDArray> feed = new HashMap<>(r.feed(tab, start, t));
        feed.put("x", xv);
        INDArray out = sd.output(feed, y.name()).get(y.name());
        assertArrayEquals(new long[] {b, t, h, dh}, out.shape());
        assertArrayEquals(Reference.rope(Reference.of(xv), b, t, h, dh, rot, 10000, start), Reference.of(out), 1e-12);
        if (rot < dh) {   // dims past the rotary width pass through bit for bit
            for (int j = rot; j < dh; j++) assertEquals(xv.getDouble(1, 2, dh + j), out.getDouble(1, 2, 1, j), 0);
        }
    }

    @Test void fullRotaryMatchesRotateHalf() { checkAgainstReference(8, 8, 5, true); }

    @Test void partialRotaryMatchesRotateHalf() { checkAgainstReference(8, 4, 0, false); }

    @Test void constantTablesEqualFedTables() {
        RotaryEmbedding r = new RotaryEmbedding(8, 4, 20000);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, 1, 6, 16);
        SDVariable rows = x.reshape(-1, 16);
        RotaryEmbedding.Tables fed = r.placeholders(sd, "fed", DataType.DOUBLE);
        RotaryEmbedding.Tables fixed = r.constants(sd, "fixed", 0, 6, DataType.DOUBLE);
        SeqShape seq = SeqShape.of(x);
        SDVariable a = fed.apply(rows, 2, seq), b = fixed.apply(rows, 2, seq);
        Map<String, INDArray> feed = new HashMap<>(r.feed(fed, 0, 6));
        feed.put("x", Rand.normal(9, 1, 6, 16));
        Map<String, INDArray> out = sd.output(feed, a.name(), b.name());
        assertEquals(out.get(a.name()), out.get(b.name()));
    }

    @Test void gradient() {
        RotaryEmbedding r = new RotaryEmbedding(6, 4, 100);
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, 2, -1, 12);
        RotaryEmbedding.Tables tab = r.placeholders(sd, "rope", DataType.DOUBLE);
        SDVariable y = tab.apply(x.reshape(-1, 12), 2, SeqShape.of(x));
        Map<String, INDArray> feed = new HashMap<>(r.feed(tab, 2, 3));
        feed.put("x", Rand.normal(8, 2, 3, 12));
        GradientCheck.of(sd, y).feed(feed).inputs("x").maxPerArray(72).check();
    }
}
