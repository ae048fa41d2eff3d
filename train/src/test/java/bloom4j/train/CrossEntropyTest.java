package bloom4j.train;

import bloom4j.nn.GradientCheck;
import bloom4j.nn.Rand;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CrossEntropyTest {
    static final int N = 6, V = 5;
    static final long[] LABELS = {0, 4, -100, 2, 2, -100};

    /** F.cross_entropy(z, y, ignore_index=-100, reduction="mean") in plain double. */
    static double reference(INDArray z, long[] y) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] == -100) continue;
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int v = 0; v < V; v++) max = Math.max(max, z.getDouble(i, v));
            for (int v = 0; v < V; v++) s += Math.exp(z.getDouble(i, v) - max);
            sum += -(z.getDouble(i, (int) y[i]) - max - Math.log(s));
            n++;
        }
        return sum / n;
    }

    @Test void valueIsMeanOverNonIgnoredRows() {
        SameDiff sd = SameDiff.create();
        SDVariable z = sd.placeHolder("z", DataType.DOUBLE, -1, V);
        CrossEntropy ce = CrossEntropy.build(z, V, "ce");
        INDArray zv = Rand.normal(1, 3.0, N, V);
        Map<String, INDArray> feed = new HashMap<>(ce.feed(LABELS, -100, CrossEntropy.countValid(LABELS, -100)));
        feed.put("z", zv);
        assertEquals(reference(zv, LABELS), sd.output(feed, "ce").get("ce").getDouble(0), 1e-12);
    }

    /** The numerical check applies an arbitrary upstream gradient: what SameDiff's own loss ops get wrong in M2.1. */
    @Test void gradientIsRightUnderAnUpstreamGradient() {
        SameDiff sd = SameDiff.create();
        SDVariable z = sd.placeHolder("z", DataType.DOUBLE, -1, V);
        SDVariable w = sd.var("w", Rand.normal(2, 0.5, V, V));
        CrossEntropy ce = CrossEntropy.build(z.mmul(w), V, "ce");
        Map<String, INDArray> feed = new HashMap<>(ce.feed(LABELS, -100, 4));
        feed.put("z", Rand.normal(3, N, V));
        GradientCheck.of(sd, ce.loss().mul(3.0)).feed(feed).inputs("z").check();
    }

    @Test void refusesBadLabels() {
        CrossEntropy ce = CrossEntropy.build(SameDiff.create().placeHolder("z", DataType.FLOAT, -1, V), V, "ce");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ce.feed(new long[] {1, 5}, -100, 2));
        assertTrue(e.getMessage().startsWith("label 5 at row 1 is outside [0, 5)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ce.feed(new long[] {-100}, -100, 0));
    }
}
