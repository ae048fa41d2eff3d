package bloom4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Floats} against an independent oracle: every 16-bit pattern is decoded from its IEEE fields with {@link Math#scalb}, and
 * narrowing is checked against "nearest representable value, ties to the even encoding" found by search over that table.
 */
class FloatsTest {

    /** Value of a non-negative finite binary16 pattern, from its fields. */
    private static double halfValue(int bits) {
        int exp = bits >>> 10;
        int mant = bits & 0x3FF;
        return exp == 0 ? Math.scalb((double) mant, -24) : Math.scalb((double) (1024 + mant), exp - 25);
    }

    /** Value of a non-negative finite bfloat16 pattern, from its fields. */
    private static double bf16Value(int bits) {
        int exp = bits >>> 7;
        int mant = bits & 0x7F;
        return exp == 0 ? Math.scalb((double) mant, -133) : Math.scalb((double) (128 + mant), exp - 134);
    }

    /**
     * Nearest pattern to {@code a >= 0} among patterns 0..infBits-1 with values {@code value}, where infBits stands for the next
     * power of two past the largest finite (so overflow rounds to infinity exactly as IEEE round-to-nearest-even does).
     */
    private static int nearest(double a, double[] value, int infBits, double infValue) {
        int lo = 0;
        int hi = infBits; // invariant: value(lo) <= a, answer in [lo, hi]
        if (a >= infValue) return infBits;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (value[mid] <= a) lo = mid;
            else hi = mid;
        }
        double below = value[lo];
        double above = hi == infBits ? infValue : value[hi];
        if (a - below < above - a) return lo;
        if (a - below > above - a) return hi;
        return (lo & 1) == 0 ? lo : hi;
    }

    private static final double[] HALVES = new double[0x7C00];
    private static final double[] BF16S = new double[0x7F80];

    static {
        for (int b = 0; b < HALVES.length; b++) HALVES[b] = halfValue(b);
        for (int b = 0; b < BF16S.length; b++) BF16S[b] = bf16Value(b);
    }

    private static short oracleF16(float f) {
        if (Float.isNaN(f)) return (short) ((Float.floatToRawIntBits(f) >>> 16 & 0x8000) | 0x7E00);
        int sign = Float.floatToRawIntBits(f) >>> 16 & 0x8000;
        return (short) (sign | nearest(Math.abs((double) f), HALVES, 0x7C00, 65536.0));
    }

    private static short oracleBf16(float f) {
        if (Float.isNaN(f)) return (short) 0x7FC0;
        int sign = Float.floatToRawIntBits(f) >>> 16 & 0x8000;
        return (short) (sign | nearest(Math.abs((double) f), BF16S, 0x7F80, Math.scalb(1.0, 128)));
    }

    private static void assertF16(int expectedBits, float f) {
        assertEquals(expectedBits, Floats.floatToF16(f) & 0xFFFF,
                () -> String.format("f16(%s = 0x%08X): expected 0x%04X, got 0x%04X", f, Float.floatToRawIntBits(f), expectedBits,
                        Floats.floatToF16(f) & 0xFFFF));
    }

    private static void assertBf16(int expectedBits, float f) {
        assertEquals(expectedBits, Floats.floatToBf16(f) & 0xFFFF,
                () -> String.format("bf16(%s = 0x%08X): expected 0x%04X, got 0x%04X", f, Float.floatToRawIntBits(f), expectedBits,
                        Floats.floatToBf16(f) & 0xFFFF));
    }

    @Test
    void f16WidensEveryPatternExactly() {
        for (int b = 0; b < 0x10000; b++) {
            float f = Floats.f16ToFloat((short) b);
            int mag = b & 0x7FFF;
            boolean negative = (b & 0x8000) != 0;
            if (mag > 0x7C00) {
                assertTrue(Float.isNaN(f), "NaN pattern " + Integer.toHexString(b));
                assertEquals((b & 0x3FF) << 13, Float.floatToRawIntBits(f) & 0x7FFFFF, "payload kept");
            } else if (mag == 0x7C00) {
                assertEquals(negative ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY, f);
            } else {
                double v = negative ? -HALVES[mag] : HALVES[mag];
                assertEquals(v, (double) f, 0.0, "pattern " + Integer.toHexString(b));
                assertEquals(negative, (Float.floatToRawIntBits(f) & 0x80000000) != 0, "sign of " + Integer.toHexString(b));
            }
        }
    }

    @Test
    void f16NarrowsEveryHalfBackToItself() {
        for (int b = 0; b < 0x10000; b++) {
            if ((b & 0x7FFF) > 0x7C00) continue;
            assertF16(b, Floats.f16ToFloat((short) b));
        }
    }

    @Test
    void f16SpecialValues() {
        assertF16(0x0000, 0.0f);
        assertF16(0x8000, -0.0f);
        assertF16(0x7BFF, 65504f);                          // largest half
        assertF16(0xFBFF, -65504f);
        assertF16(0x7BFF, Math.nextDown(65520f));           // just below the half-way point to 65536
        assertF16(0x7C00, 65520f);                          // tie: 0x7BFF is odd, so it rounds up, to infinity
        assertF16(0xFC00, -65520f);
        assertF16(0x7C00, 1e10f);
        assertF16(0x7C00, Float.POSITIVE_INFINITY);
        assertF16(0xFC00, Float.NEGATIVE_INFINITY);
        assertF16(0x7E00, Float.NaN);
        assertF16(0xFE00, Float.intBitsToFloat(0xFFC00000)); // negative NaN keeps its sign
        assertF16(0x7E00, Float.intBitsToFloat(0x7F800001)); // signalling NaN with a payload: canonical quiet NaN
        assertF16(0x7E00, Float.intBitsToFloat(0x7FFFE000)); // a payload that would survive in the top 10 bits is dropped too
        assertF16(0x0400, 0x1p-14f);                        // smallest normal
        assertF16(0x03FF, 0x3FFp-24f);                      // largest subnormal
        assertF16(0x0001, 0x1p-24f);                        // smallest subnormal
        assertF16(0x0000, 0x1p-25f);                        // tie between 0 and the smallest subnormal: to even 0
        assertF16(0x0001, Math.nextUp(0x1p-25f));
        assertF16(0x0002, 0x3p-25f);                        // tie between 1 and 2 units: to even 2
        assertF16(0x8001, -0x1p-24f);
        assertF16(0x8000, -0x1p-26f);                       // underflow keeps the sign
        assertF16(0x0400, 0x7FFp-25f);                      // half-way between the largest subnormal and 2^-14: to even 0x400
        assertF16(0x3C00, 1f + 0x1p-11f);                   // tie in the normal range: to even mantissa 0
        assertF16(0x3C02, 1f + 0x3p-11f);                   // tie: to even mantissa 2
        assertF16(0x3C01, Math.nextUp(1f + 0x1p-11f));
        assertF16(0x4000, Math.nextDown(2f));               // rounding carries into the exponent
    }

    @Test
    void f16NarrowingMatchesOracleAtEveryTieAndRandomly() {
        for (int b = 0; b < 0x7C00; b++) { // each half-way point between neighbours, and one float either side
            float mid = (float) ((HALVES[b] + (b + 1 < 0x7C00 ? HALVES[b + 1] : 65536.0)) / 2);
            for (float f : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid), -mid}) assertF16(oracleF16(f) & 0xFFFF, f);
        }
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 300_000; i++) {
            float f = i % 2 == 0 ? Float.intBitsToFloat(rnd.nextInt()) : (float) rnd.nextDouble(-70000, 70000);
            assertF16(oracleF16(f) & 0xFFFF, f);
        }
    }

    @Test
    void bf16WidensAndNarrowsEveryPattern() {
        for (int b = 0; b < 0x10000; b++) {
            float f = Floats.bf16ToFloat((short) b);
            assertEquals(b << 16, Float.floatToRawIntBits(f)); // bfloat16 is the top half of a float32
            if (!Float.isNaN(f)) assertBf16(b, f);
        }
        for (int b = 0; b < 0x7F80; b++) assertEquals(BF16S[b], (double) Floats.bf16ToFloat((short) b), 0.0);
    }

    @Test
    void bf16SpecialValues() {
        assertBf16(0x0000, 0.0f);
        assertBf16(0x8000, -0.0f);
        assertBf16(0x3F80, 1f + 0x1p-8f);                   // tie: to even mantissa 0
        assertBf16(0x3F82, 1f + 0x3p-8f);                   // tie: to even mantissa 2
        assertBf16(0x3F81, Math.nextUp(1f + 0x1p-8f));
        assertBf16(0x7F7F, Float.intBitsToFloat(0x7F7F7FFF));
        assertBf16(0x7F80, Float.intBitsToFloat(0x7F7F8000)); // tie above the largest bfloat16 (odd): to infinity
        assertBf16(0x7F80, Float.MAX_VALUE);
        assertBf16(0xFF80, -Float.MAX_VALUE);
        assertBf16(0x7F80, Float.POSITIVE_INFINITY);
        assertBf16(0xFF80, Float.NEGATIVE_INFINITY);
        assertBf16(0x7FC0, Float.NaN);
        assertBf16(0x7FC0, Float.intBitsToFloat(0xFFC00001)); // PyTorch drops NaN sign and payload
        assertBf16(0x7FC0, Float.intBitsToFloat(0x7F800001));
        assertBf16(0x0001, Float.MIN_VALUE * 0x10000 + Float.MIN_VALUE); // subnormals round like normals
        assertBf16(0x0000, Float.MIN_VALUE * 0x8000);        // tie: to even 0
    }

    @Test
    void bf16NarrowingMatchesOracleRandomly() {
        SplittableRandom rnd = new SplittableRandom(6);
        for (int i = 0; i < 300_000; i++) {
            float f = Float.intBitsToFloat(i % 2 == 0 ? rnd.nextInt() : rnd.nextInt() & 0xFFFF8000 | 0x8000 | rnd.nextInt(2));
            assertBf16(oracleBf16(f) & 0xFFFF, f);
        }
    }
}
