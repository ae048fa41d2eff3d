package bloom4j.tensor;

/**
 * Bit-exact conversions between float32 and the 16-bit float formats, as PyTorch's scalar paths do them.
 *
 * <p>Widening (F16/BF16 to F32) is exact. Narrowing rounds to nearest even, like {@code c10::detail::round_to_nearest_even}
 * for bfloat16 and {@code fp16_ieee_from_fp32_value} (c10/util/Half.h) for half. NaN narrows to the canonical quiet NaN of
 * each routine: {@code 0x7FC0} for bfloat16 (sign dropped), {@code sign | 0x7E00} for half (payload dropped).
 */
public final class Floats {
    private Floats() {}

    /** Widens bfloat16 bits to float32 (exact: a bfloat16 is the top half of a float32). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Narrows to bfloat16 bits, rounding to nearest even; magnitudes past the largest bfloat16 round to infinity. */
    public static short floatToBf16(float f) {
        if (Float.isNaN(f)) return (short) 0x7FC0;
        int u = Float.floatToRawIntBits(f);
        return (short) ((u + 0x7FFF + ((u >>> 16) & 1)) >>> 16);
    }

    /** Widens IEEE binary16 bits to float32 (exact, including subnormals, signed zeros, infinities and NaN payloads). */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) { // inf / nan
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign); // signed zero
            // subnormal: value = mant * 2^-24, exact in float32
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /**
     * Narrows to IEEE binary16 bits, rounding to nearest even: magnitudes from 65520 (half-way past the largest half, 65504) become
     * infinity, magnitudes below 2^-14 become subnormals or a signed zero.
     */
    public static short floatToF16(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int absx = x & 0x7FFFFFFF;
        if (absx > 0x7F800000) return (short) (sign | 0x7E00); // nan
        if (absx >= 0x477FF000) { // inf, or rounds to >= 65520 -> inf
            return (short) (sign | 0x7C00);
        }
        if (absx < 0x38800000) { // below the smallest normal half (2^-14): subnormal or zero
            // value in units of 2^-24, rounded to nearest even; a result of 0x400 is exactly the smallest normal's encoding
            float a = Float.intBitsToFloat(absx) * 0x1p24f; // exact: scaling by a power of two
            int r = (int) Math.rint(a);                       // rint is round-half-even
            return (short) (sign | r);
        }
        int exp = ((absx >>> 23) - 112) << 10;
        int mant = absx & 0x7FFFFF;
        int h = exp | (mant >>> 13);
        int rem = mant & 0x1FFF;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) h++; // carries into the exponent correctly
        return (short) (sign | h);
    }

    /**
     * {@code torch.linspace(start, end, n)} in float32: step = (end − start)/(n − 1); the first half counts up from start, the
     * second half down from end (ATen's {@code LinspaceKernel}), so both ends are exact.
     */
    public static float[] linspace(float start, float end, int n) {
        float[] out = new float[n];
        if (n == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) out[i] = i < half ? start + step * i : end - step * (n - 1 - i);
        return out;
    }
}
