package bloom4j.tensor.audio;

import bloom4j.tensor.io.SafeTensorsFile;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Resampler} against torchaudio's {@code functional.resample} (defaults: sinc_interp_hann, width 6, rolloff 0.99).
 *
 * <p>Two references: (1) outputs and kernels computed by torch 1.13 with the ops torchaudio's published code runs
 * ({@code src/test/python/resample_reference.py}, float32 as for a float32 waveform); (2) the sinc formula evaluated here
 * independently, in double, as a direct sum over input samples.
 *
 * <p>Stated tolerances (measured in brackets): against (1), kernels within 2e-7 absolute [1.2e-7] and outputs within 1e-6
 * absolute [1.8e-7] on signals of amplitude ≤ 0.9 — float rounding only. Against (2), 2e-5 [≤ 1.3e-5] for rates whose reduced
 * input rate is small (≤ 441), 5e-4 [1.6e-4] for the coprime 44101 → 48000: torchaudio computes the kernel's time argument
 * in float32, whose error grows with the reduced rate, and this class reproduces torchaudio, not the exact formula.
 */
class ResamplerTest {
    static final double KERNEL_ATOL = 2e-7;
    static final double OUTPUT_ATOL = 1e-6;
    static final double FORMULA_ATOL = 2e-5;
    static final double COPRIME_FORMULA_ATOL = 5e-4;

    static Path resource(String name) throws URISyntaxException {
        return Path.of(Objects.requireNonNull(ResamplerTest.class.getResource("/bloom4j/audio/" + name), name).toURI());
    }

    @Test void matchesTorchReferenceKernelsAndOutputs() throws Exception {
        try (SafeTensorsFile f = SafeTensorsFile.open(resource("resample-reference.safetensors"))) {
            JsonNode cases = new ObjectMapper().readTree(f.metadata().get("cases"));
            assertEquals(7, cases.size());
            double worstK = 0, worstY = 0;
            for (JsonNode c : cases) {
                int orig = c.get(0).asInt(), nu = c.get(1).asInt();
                String name = orig + "_" + nu;
                Resampler r = new Resampler(orig, nu);
                float[][] wantK = f.load(name + ".kernel", DataType.FLOAT).toFloatMatrix();
                float[][] gotK = r.kernel();
                assertEquals(wantK.length, gotK.length, name + " phases");
                assertEquals(wantK[0].length, gotK[0].length, name + " taps");
                for (int p = 0; p < wantK.length; p++) {
                    for (int k = 0; k < wantK[p].length; k++) worstK = Math.max(worstK, Math.abs(wantK[p][k] - gotK[p][k]));
                }
                INDArray in = f.load(name + ".in", DataType.FLOAT);
                Audio y = r.apply(Audio.fromINDArray(in, orig));
                float[][] want = f.load(name + ".out", DataType.FLOAT).toFloatMatrix();
                assertEquals(want[0].length, y.frames(), name + " output length");
                for (int ch = 0; ch < want.length; ch++) {
                    float[] got = y.channelView(ch);
                    for (int i = 0; i < got.length; i++) worstY = Math.max(worstY, Math.abs(got[i] - want[ch][i]));
                }
            }
            assertTrue(worstK <= KERNEL_ATOL, "kernel max abs error " + worstK);
            assertTrue(worstY <= OUTPUT_ATOL, "output max abs error " + worstY);
            System.out.printf("resampler vs torch reference: kernel max abs %.3g, output max abs %.3g%n", worstK, worstY);
        }
    }

    /** y[j] = Σ_i x[i]·h((i/orig − j/new)·base), h(t) = sinc(πt)·cos²(πt/12)·base/orig on |t| < 6, in double. */
    static double[] formula(float[] x, int origRate, int newRate) {
        int g = java.math.BigInteger.valueOf(origRate).gcd(java.math.BigInteger.valueOf(newRate)).intValue();
        int orig = origRate / g, nu = newRate / g;
        double base = Math.min(orig, nu) * 0.99;
        int n = (int) Math.ceil((double) nu * x.length / orig);
        double[] y = new double[n];
        for (int j = 0; j < n; j++) {
            double centre = (double) j * orig / nu;                 // input position of output j
            int lo = (int) Math.floor(centre - 6 * orig / base) - 1, hi = (int) Math.ceil(centre + 6 * orig / base) + 1;
            double acc = 0;
            for (int i = Math.max(lo, 0); i <= Math.min(hi, x.length - 1); i++) {
                double t = ((double) i / orig - (double) j / nu) * base;
                if (Math.abs(t) >= 6) continue;
                double sinc = t == 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
                double w = Math.cos(Math.PI * t / 12);
                acc += x[i] * sinc * w * w * base / orig;
            }
            y[j] = acc;
        }
        return y;
    }

    @Test void matchesTheFormulaForCommonRates() {
        int[][] pairs = {{44100, 48000}, {16000, 48000}, {48000, 24000}, {24000, 48000}, {8000, 16000}, {32000, 44100}, {11025, 48000}};
        java.util.Random rnd = new java.util.Random(7);
        for (int[] p : pairs) {
            float[] x = new float[1200];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (0.6 * Math.sin(2 * Math.PI * 440.0 * i / p[0]) + 0.3 * (rnd.nextDouble() - 0.5));
            }
            float[] got = Resampler.resample(x, p[0], p[1]);
            double[] want = formula(x, p[0], p[1]);
            assertEquals(want.length, got.length, p[0] + "->" + p[1]);
            for (int i = 0; i < got.length; i++) {
                assertEquals(want[i], got[i], FORMULA_ATOL, p[0] + "->" + p[1] + " sample " + i);
            }
        }
    }

    @Test void coprimeRatesStayCheap() {
        // 44101 and 48000 are coprime: a dense torchaudio kernel would be 48000 x 44115 floats. Only non-clamped taps are kept.
        float[] x = new float[2000];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.01);
        float[] y = Resampler.resample(x, 44101, 48000);
        assertEquals((int) Math.ceil(48000.0 * 2000 / 44101), y.length);
        double[] want = formula(x, 44101, 48000);
        for (int i = 0; i < y.length; i++) assertEquals(want[i], y[i], COPRIME_FORMULA_ATOL);
    }

    @Test void identityAndValidation() {
        Audio a = Audio.mono(new float[] {1, 2, 3}, 16000);
        assertSame(a, Resampler.resample(a, 16000));
        assertArrayEquals(new float[] {1, 2, 3}, Resampler.resample(new float[] {1, 2, 3}, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> new Resampler(0, 48000));
        assertThrows(IllegalArgumentException.class, () -> new Resampler(44100, 48000).apply(a));
        assertEquals(0, Resampler.resample(new float[0], 44100, 48000).length);
    }
}
