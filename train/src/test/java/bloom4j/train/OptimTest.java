package bloom4j.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** AdamW, the schedule and clipping against torch's formulas, computed by hand. */
class OptimTest {

    @Test void adamWMatchesTorchStepByStep() {
        AdamW.Settings s = new AdamW.Settings(0.9, 0.999, 1e-8, 0.1);
        AdamW opt = new AdamW(s, k -> !k.equals("nodecay"));
        INDArray p = Nd4j.createFromArray(1.0, -2.0), q = Nd4j.createFromArray(0.5);
        double[] pv = {1.0, -2.0}, qv = {0.5}, m = new double[3], v = new double[3];
        double[][] grads = {{0.3, -0.1, 2.0}, {-0.2, 0.4, 1.0}, {0.05, 0.0, -3.0}};
        double lr = 0.01;
        for (int t = 1; t <= 3; t++) {
            double[] g = grads[t - 1];
            Map<String, INDArray> params = new LinkedHashMap<>(Map.of("p", p));
            params.put("nodecay", q);
            opt.step(params, Map.of("p", Nd4j.createFromArray(g[0], g[1]), "nodecay", Nd4j.createFromArray(g[2])), lr);
            double bc1 = 1 - Math.pow(0.9, t), bc2 = 1 - Math.pow(0.999, t);
            for (int i = 0; i < 3; i++) {
                double[] arr = i < 2 ? pv : qv;
                int j = i < 2 ? i : 0;
                if (i < 2) arr[j] *= 1 - lr * 0.1;   // torch: p.mul_(1 - lr * weight_decay) first
                m[i] = 0.9 * m[i] + 0.1 * g[i];
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
                arr[j] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-8);
            }
        }
        assertArrayEquals(pv, p.toDoubleVector(), 1e-15);
        assertArrayEquals(qv, q.toDoubleVector(), 1e-15);
        assertEquals(3, opt.steps());
        assertEquals(Map.of("p.exp_avg", 2, "p.exp_avg_sq", 2, "nodecay.exp_avg", 1, "nodecay.exp_avg_sq", 1).keySet(),
                opt.state().keySet());
    }

    @Test void adamWDecayIsDecoupled() {
        // With a zero gradient the Adam term is 0: only the decay acts, p·(1 − lr·λ), whatever the moments.
        AdamW opt = new AdamW(AdamW.Settings.torchDefaults().weightDecay(0.5));
        INDArray p = Nd4j.createFromArray(new float[] {2f, -4f});
        opt.step(Map.of("w", p), Map.of("w", Nd4j.zeros(DataType.FLOAT, 2)), 0.1);
        assertArrayEquals(new float[] {1.9f, -3.8f}, p.toFloatVector(), 1e-6f);
        INDArray bias = Nd4j.createFromArray(new float[] {2f});
        new AdamW(AdamW.Settings.torchDefaults().weightDecay(0.5)).step(Map.of("x.bias", bias), Map.of("x.bias", Nd4j.zeros(DataType.FLOAT, 1)), 0.1);
        assertEquals(2f, bias.getFloat(0), "biases are not decayed by default");
    }

    @Test void adamWStateRoundTrip() {
        AdamW a = new AdamW(AdamW.Settings.torchDefaults());
        INDArray p1 = Nd4j.createFromArray(1.0, 2.0), p2 = p1.dup();
        Map<String, INDArray> g = Map.of("w", Nd4j.createFromArray(0.1, -0.3));
        a.step(Map.of("w", p1), g, 0.01);
        AdamW b = new AdamW(AdamW.Settings.torchDefaults());
        b.load(a.state(), a.steps());
        p2.assign(p1);
        a.step(Map.of("w", p1), g, 0.01);
        b.step(Map.of("w", p2), g, 0.01);
        assertEquals(p1, p2);
    }

    @Test void warmupCosine() {
        WarmupCosine s = new WarmupCosine(1e-3, 10, 110, 0.1);
        assertEquals(1e-4, s.lr(1), 1e-18);
        assertEquals(1e-3, s.lr(10), 1e-18);
        assertEquals(1e-4 + 0.9e-3 * 0.5 * (1 + Math.cos(Math.PI * 0.5)), s.lr(60), 1e-15);
        assertEquals(1e-4, s.lr(110), 1e-18);
        assertEquals(1e-4, s.lr(500), 1e-18, "after the end: the floor");
        for (int t = 11; t < 110; t++) assertTrue(s.lr(t + 1) <= s.lr(t));
        assertEquals(3e-4, WarmupCosine.constant(3e-4).lr(77));
        assertThrows(IllegalArgumentException.class, () -> s.lr(0));
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1e-3, 20, 10, 0));
    }

    @Test void clipToGlobalNorm() {
        Map<String, INDArray> g = new LinkedHashMap<>();
        g.put("a", Nd4j.createFromArray(3.0, 0.0));
        g.put("b", Nd4j.createFromArray(4.0));
        assertEquals(5.0, GradClip.clip(g, 10), 0);
        assertEquals(3.0, g.get("a").getDouble(0), 0, "below the limit: unchanged");
        assertEquals(5.0, GradClip.clip(g, 1.0), 0);
        double coef = 1.0 / (5.0 + 1e-6);
        assertEquals(3.0 * coef, g.get("a").getDouble(0), 1e-15);
        assertEquals(4.0 * coef, g.get("b").getDouble(0), 1e-15);
        assertEquals(1.0, GradClip.globalNorm(g), 1e-6);
    }
}
