package bloom4j.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GradientGuardTest {

    static Map<String, INDArray> values(double b) {
        Map<String, INDArray> v = new LinkedHashMap<>();
        v.put("l.lora_A.weight", Nd4j.createFromArray(0.1, 0.2));
        v.put("l.lora_B.weight", Nd4j.createFromArray(b, b));
        v.put("other", Nd4j.createFromArray(1.0));
        return v;
    }

    @Test void aWaitsForBThenIsChecked() {
        GradientGuard g = new GradientGuard(Map.of("l.lora_A.weight", "l.lora_B.weight"));
        Map<String, INDArray> grads = new HashMap<>(Map.of("l.lora_A.weight", Nd4j.zeros(2), "l.lora_B.weight", Nd4j.createFromArray(1.0, 0.0),
                "other", Nd4j.createFromArray(0.5)));
        g.check(1, grads, values(0));          // B = 0: A's zero gradient is exact, not a fault
        assertFalse(g.done());
        TrainingException e = assertThrows(TrainingException.class, () -> g.check(2, grads, values(0.1)));
        assertTrue(e.getMessage().contains("l.lora_A.weight [2]: gradient all zero (checked at step 2, once l.lora_B.weight was non-zero)"),
                e.getMessage());
    }

    @Test void namesEveryOffender() {
        GradientGuard g = new GradientGuard(Map.of());
        Map<String, INDArray> grads = new HashMap<>();
        grads.put("l.lora_A.weight", Nd4j.createFromArray(Double.NaN, 1.0));
        grads.put("l.lora_B.weight", Nd4j.zeros(2));
        TrainingException e = assertThrows(TrainingException.class, () -> g.check(1, grads, values(0)));
        assertTrue(e.getMessage().startsWith("at step 1, 3 trainable parameter(s) got no usable gradient"), e.getMessage());
        assertTrue(e.getMessage().contains("l.lora_A.weight [2]: gradient not finite (1 of 2 elements NaN or infinite)"), e.getMessage());
        assertTrue(e.getMessage().contains("l.lora_B.weight [2]: gradient all zero"), e.getMessage());
        assertTrue(e.getMessage().contains("other [1]: no gradient computed (not connected to the loss)"), e.getMessage());
    }

    @Test void healthyGradientsPassOnce() {
        GradientGuard g = new GradientGuard(Map.of());
        Map<String, INDArray> grads = Map.of("l.lora_A.weight", Nd4j.createFromArray(0.0, 1e-9), "l.lora_B.weight",
                Nd4j.createFromArray(1.0, 1.0), "other", Nd4j.createFromArray(2.0));
        g.check(1, grads, values(0.1));
        assertTrue(g.done());
        g.check(2, Map.of(), values(0.1));   // later steps are not checked
    }
}
