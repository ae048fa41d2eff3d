package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The checker itself: it must pass a correct gradient and catch a known-wrong one. */
class GradientCheckTest {

    @Test void passesCorrectGradientsOnParamsAndInputs() {
        SameDiff sd = SameDiff.create();
        SDVariable w = sd.var("w", Rand.normal(1, 3, 4));
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, 3);
        SDVariable y = sd.nn.softmax(sd.mmul(x, w), 1);    // a plain sum(y) would see a zero gradient through softmax
        List<GradientCheck.Entry> r = GradientCheck.of(sd, y).feed(Map.of("x", Rand.normal(2, 5, 3))).inputs("x").check();
        assertEquals(2, r.size());
        assertEquals(12, r.get(0).checked());
        assertEquals(15, r.get(1).checked());
        assertTrue(r.stream().allMatch(GradientCheck.Entry::passed));
    }

    @Test void catchesCumsumBackwardBugOnAxis1() {
        // cumsum's backward is wrong for axis != 0 in M2.1.
        SameDiff sd = SameDiff.create();
        SDVariable w = sd.var("w", Rand.normal(3, 3, 4));
        SDVariable y = sd.cumsum(w.mul(w), false, false, 1);
        AssertionError e = assertThrows(AssertionError.class, () -> GradientCheck.of(sd, y).check());
        assertTrue(e.getMessage().startsWith("gradient check failed"), e.getMessage());
    }
}
