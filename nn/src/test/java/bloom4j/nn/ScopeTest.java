package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ScopeTest {

    private static Map<String, INDArray> tensors() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("model.layers.3.self_attn.q_proj.weight", Nd4j.arange(6).reshape(2, 3).castTo(DataType.HALF));
        m.put("model.layers.3.mlp.up_proj.weight", Nd4j.ones(DataType.FLOAT, 4, 2));
        m.put("model.norm.weight", Nd4j.ones(DataType.FLOAT, 2));
        return m;
    }

    @Test void pathsJoinWithDots() {
        Scope root = Scope.root(SameDiff.create(), tensors());
        Scope layer = root.pp("model").pp("layers").pp(3);
        assertEquals("model.layers.3", layer.path());
        assertEquals("model.layers.3.self_attn.q_proj.weight", layer.pp("self_attn").pp("q_proj").key("weight"));
        assertEquals("model.layers.3.self_attn.q_proj.weight", root.pp("model.layers").pp(3).pp("self_attn.q_proj").key("weight"));
        assertEquals("bos_token", root.key("bos_token"));
        assertThrows(IllegalArgumentException.class, () -> root.pp("a..b"));
        assertThrows(IllegalArgumentException.class, () -> root.pp(""));
        assertThrows(IllegalArgumentException.class, () -> root.pp(-1));
    }

    @Test void loadsCastsAndFreezesByDefault() {
        SameDiff sd = SameDiff.create();
        Scope s = Scope.root(sd, tensors()).pp("model.layers.3.self_attn.q_proj");
        SDVariable w = s.param("weight", 2, 3);
        assertEquals("model.layers.3.self_attn.q_proj.weight", w.name());
        assertEquals(VariableType.CONSTANT, w.getVariableType());
        assertEquals(DataType.FLOAT, w.dataType());
        assertEquals(5.0, w.getArr().getDouble(1, 2));
        assertSame(w, s.param("weight", 2, 3), "a second request returns the same variable (tied weights)");
    }

    @Test void trainabilityPolicyAndDtype() {
        SameDiff sd = SameDiff.create();
        LoadOptions opt = LoadOptions.inference().dtype(DataType.DOUBLE).trainable(k -> k.contains("mlp"));
        Scope root = Scope.root(sd, ParamSource.of(tensors()), opt);
        SDVariable up = root.pp("model.layers.3.mlp.up_proj").param("weight", 4, 2);
        SDVariable norm = root.pp("model.norm").param("weight", 2);
        assertEquals(VariableType.VARIABLE, up.getVariableType());
        assertEquals(VariableType.CONSTANT, norm.getVariableType());
        assertEquals(DataType.DOUBLE, up.dataType());
        assertEquals(List.of(up), root.params().trainable());
    }

    @Test void mapArraysAreNotAliased() {
        Map<String, INDArray> m = tensors();
        SDVariable n = Scope.root(SameDiff.create(), m).pp("model.norm").param("weight", 2);
        m.get("model.norm.weight").assign(7);
        assertEquals(1.0, n.getArr().getDouble(0));
    }

    @Test void shapeMismatchNamesKeyShapesAndSource() {
        Scope s = Scope.root(SameDiff.create(), tensors()).pp("model.layers.3.self_attn.q_proj");
        ParameterException e = assertThrows(ParameterException.class, () -> s.param("weight", 3, 2));
        assertEquals("model.layers.3.self_attn.q_proj.weight", e.key());
        assertTrue(e.getMessage().contains("'model.layers.3.self_attn.q_proj.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("expected [3, 2]"), e.getMessage());
        assertTrue(e.getMessage().contains("got [2, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("in-memory map of 3 tensors"), e.getMessage());
    }

    @Test void missingKeyNamesKeyAndSuggestsSimilar() {
        Scope s = Scope.root(SameDiff.create(), tensors()).pp("layers.3.self_attn.q_proj");
        ParameterException e = assertThrows(ParameterException.class, () -> s.param("weight", 2, 3));
        assertTrue(e.getMessage().startsWith("missing 'layers.3.self_attn.q_proj.weight' [2, 3] in in-memory map"), e.getMessage());
        assertTrue(e.getMessage().contains("found similar [model.layers.3.self_attn.q_proj.weight]"), e.getMessage());
    }

    @Test void reportsConsumedUnusedAndInitialised() {
        SameDiff sd = SameDiff.create();
        Scope root = Scope.root(sd, ParamSource.of(tensors()), LoadOptions.inference().trainable(k -> k.contains("lora_")));
        root.pp("model.norm").param("weight", 2);
        SDVariable a = root.pp("model.layers.3.self_attn.q_proj.lora_A").param("weight", Init.kaimingUniform(Math.sqrt(5), 1), 4, 3);
        SDVariable b = root.pp("model.layers.3.self_attn.q_proj.lora_B").param("weight", Init.zeros(), 2, 4);
        Params p = root.params();
        assertEquals(List.of("model.norm.weight"), List.copyOf(p.consumed()));
        assertEquals(List.of("model.layers.3.self_attn.q_proj.weight", "model.layers.3.mlp.up_proj.weight"), p.unused());
        assertEquals(2, p.initialised().size());
        assertTrue(p.initialised().get(a.name()).startsWith("kaiming_uniform"));
        assertEquals(VariableType.VARIABLE, a.getVariableType());
        assertEquals(0.0, b.getArr().sumNumber().doubleValue());
        double bound = Math.sqrt(6.0 / (6 * 3));   // a = √5, fan_in = 3
        assertTrue(a.getArr().amaxNumber().doubleValue() <= bound);
        // Same key and seed: same values, whatever the order of creation.
        INDArray again = Init.kaimingUniform(Math.sqrt(5), 1).create(a.name(), new long[] {4, 3}, DataType.FLOAT);
        assertEquals(a.getArr(), again);
        ParameterException e = assertThrows(ParameterException.class, () -> p.requireComplete(k -> false));
        assertTrue(e.getMessage().contains("unused 2"), e.getMessage());
        p.requireComplete(k -> k.contains("layers.3"));
    }

    @Test void deferredMissingListsEveryKey() {
        Scope root = Scope.root(SameDiff.create(), ParamSource.of(tensors()), LoadOptions.inference().deferMissing(true));
        root.pp("model.layers.0.mlp.up_proj").param("weight", 4, 2);
        root.pp("model.layers.1.mlp.up_proj").param("weight", 4, 2);
        ParameterException e = assertThrows(ParameterException.class, () -> root.params().requireComplete(k -> true));
        assertTrue(e.getMessage().contains("missing 2"), e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.0.mlp.up_proj.weight [4, 2]"), e.getMessage());
        assertTrue(e.getMessage().contains("model.layers.1.mlp.up_proj.weight [4, 2]"), e.getMessage());
    }

    @Test void initMissingFallbackIsRecorded() {
        Scope root = Scope.root(SameDiff.create(), ParamSource.empty(), LoadOptions.inference().initMissing(Init.normal(0.02, 7)));
        SDVariable w = root.pp("x").param("weight", 8, 8);
        assertEquals("normal(std=0.02, seed=7)", root.params().initialised().get("x.weight"));
        double std = w.getArr().stdNumber().doubleValue();
        assertTrue(std > 0.01 && std < 0.03, "std " + std);
    }

    @Test void arraysForMergingCountAsConsumed() {
        Scope s = Scope.root(SameDiff.create(), tensors()).pp("model.layers.3");
        INDArray q = s.pp("self_attn.q_proj").array("weight", 2, 3);
        SDVariable merged = s.pp("self_attn").derivedConstant("q_proj+q_proj.weight", Nd4j.concat(0, q, q));
        assertEquals("model.layers.3.self_attn.q_proj+q_proj.weight", merged.name());
        assertArrayEquals(new long[] {4, 3}, merged.getArr().shape());
        assertTrue(s.params().consumed().contains("model.layers.3.self_attn.q_proj.weight"));
        assertFalse(s.params().variables().containsKey("model.layers.3.self_attn.q_proj.weight"));
        assertThrows(ParameterException.class, () -> s.pp("self_attn").derivedConstant("q_proj+q_proj.weight", q));
    }

    /** A TensorSource (what the checkpoint readers implement) over in-memory RawTensors, BF16 as checkpoints store it. */
    @Test void readsThroughTensorSource() {
        Map<String, bloom4j.tensor.io.RawTensor> raw = new LinkedHashMap<>();
        raw.put("w", bloom4j.tensor.io.RawTensor.of(Nd4j.createFromArray(new float[][] {{1.5f, -2f}, {0.25f, 3f}}).castTo(DataType.BFLOAT16)));
        bloom4j.tensor.io.TensorSource src = new bloom4j.tensor.io.TensorSource() {
            @Override public String description() { return "test.safetensors"; }
            @Override public List<String> names() { return List.copyOf(raw.keySet()); }
            @Override public bloom4j.tensor.TensorInfo info(String n) throws java.io.IOException {
                if (!raw.containsKey(n)) throw new java.io.IOException("no " + n);
                return new bloom4j.tensor.TensorInfo(n, raw.get(n).dtype(), raw.get(n).shape());
            }
            @Override public bloom4j.tensor.io.RawTensor raw(String n) { return raw.get(n); }
            @Override public void close() {}
        };
        Scope root = Scope.root(SameDiff.create(), src);
        SDVariable w = root.param("w", 2, 2);
        assertEquals(DataType.FLOAT, w.dataType());
        assertEquals(3.0, w.getArr().getDouble(1, 1));
        Scope fresh = Scope.root(SameDiff.create(), src);
        ParameterException e = assertThrows(ParameterException.class, () -> fresh.param("w", 4));
        assertTrue(e.getMessage().endsWith("expected [4], got [2, 2] in test.safetensors"), e.getMessage());
        assertTrue(assertThrows(ParameterException.class, () -> root.param("v", 2)).getMessage().contains("in test.safetensors"));
    }

    @Test void secondRequestWithOtherShapeFails() {
        Scope s = Scope.root(SameDiff.create(), tensors()).pp("model.norm");
        s.param("weight", 2);
        ParameterException e = assertThrows(ParameterException.class, () -> s.param("weight", 1, 2));
        assertTrue(e.getMessage().contains("requested as [1, 2] but already created as [2]"), e.getMessage());
    }
}
