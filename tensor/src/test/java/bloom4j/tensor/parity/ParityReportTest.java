package bloom4j.tensor.parity;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParityReportTest {

    @Test
    void toleranceIsAtolPlusRtolTimesReference() {
        Tolerance t = new Tolerance(1e-3, 1e-2);
        assertTrue(t.accepts(100.5, 100.0));          // 0.5 <= 0.001 + 1.0
        assertFalse(t.accepts(101.5, 100.0));         // 1.5 > 1.001
        assertTrue(t.accepts(0.0009, 0.0));
        assertFalse(t.accepts(0.0011, 0.0));
        assertTrue(t.accepts(Double.NaN, Double.NaN));
        assertFalse(t.accepts(1.0, Double.NaN));
        assertTrue(t.accepts(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY));
        assertFalse(t.accepts(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY));
    }

    @Test
    void reportsMaxErrorsAndFailsOutsideTolerance() {
        List<ParityReport.Line> printed = new ArrayList<>();
        ParityReport r = new ParityReport(new Tolerance(1e-4, 0), printed::add);
        r.compare("close", Nd4j.createFromArray(1f, 2f, 3.00005f), Nd4j.createFromArray(1f, 2f, 3f));
        assertTrue(r.passed());
        ParityReport.Line far = r.compare("far", Nd4j.createFromArray(1f, 2.5f), Nd4j.createFromArray(1f, 2f));
        assertFalse(far.pass());
        assertEquals(0.5, far.maxAbs(), 1e-7);
        assertEquals(0.25, far.maxRel(), 1e-7);
        assertFalse(r.passed());
        assertEquals(2, printed.size());
        assertTrue(far.toString().contains("FAIL") && far.detail().contains("flat index 1"), far.toString());
    }

    @Test
    void shapeMismatchFailsEvenWithEqualValues() {
        ParityReport r = new ParityReport(new Tolerance(1, 1), null);
        assertFalse(r.compare("s", Nd4j.createFromArray(1f, 2f).reshape(1, 2), Nd4j.createFromArray(1f, 2f)).pass());
        assertFalse(r.compare("scalar", Nd4j.scalar(1f), Nd4j.createFromArray(1f)).pass());
    }

    @Test
    void integerReferencesCompareExactlyWhateverTheTolerance() {
        ParityReport r = new ParityReport(new Tolerance(10, 10), null);
        assertFalse(r.compare("ids", Nd4j.createFromArray(1L, 3L), Nd4j.createFromArray(1L, 2L)).pass());
        assertTrue(r.compare("ids2", Nd4j.createFromArray(1L, 2L), Nd4j.createFromArray(1L, 2L)).pass());
        assertTrue(r.compare("f-vs-i", Nd4j.createFromArray(1f, 2f), Nd4j.createFromArray(1L, 2L).castTo(DataType.INT)).pass());
    }

    @Test
    void anEmptyReportIsNotAPass() {
        assertFalse(new ParityReport(Tolerance.EXACT, null).passed());
    }
}
