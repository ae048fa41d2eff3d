package bloom4j.nn.lora;

import bloom4j.nn.GradientCheck;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Rand;
import bloom4j.nn.Reference;
import bloom4j.nn.TinyDecoder;
import bloom4j.nn.TrainableReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Adapters on a Llama stack built by unchanged model code ({@link TinyDecoder}: PreNormBlock, Attention, SwiGluMlp). */
class LoraModelTest {
    static final TinyDecoder.Config CFG = new TinyDecoder.Config(8, 4, 2, 4, 4, 12, 2, 10000);
    static final Map<String, INDArray> W = TinyDecoder.weights(CFG, 1, DataType.DOUBLE);
    static final INDArray X = Rand.normal(7, 2, 3, CFG.hidden());

    static TinyDecoder build(LoraAdapters a, boolean trainAdapters, ParamSource src) {
        return new TinyDecoder(CFG, src, LoadOptions.inference().dtype(DataType.DOUBLE).adapters(a, trainAdapters), -1, false);
    }

    static INDArray out(TinyDecoder m) { return m.sd.output(m.feed(X, 0, null), m.y.name()).get(m.y.name()); }

    static LoraConfig qv() { return LoraConfig.lora(2, 4, Targets.names("q_proj", "v_proj")); }

    @Test void freshAdapterIsANoOpAndKeepsPeftNames() {
        LoraAdapters lora = LoraAdapters.fresh(qv(), 3);
        TinyDecoder m = build(lora, true, ParamSource.of(W));
        lora.requireMatched();
        assertEquals(List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj",
                "model.layers.1.self_attn.v_proj"), List.copyOf(lora.layers().keySet()));
        Set<String> vars = m.root.params().variables().keySet();
        assertTrue(vars.contains("model.layers.1.self_attn.q_proj.lora_A.weight"), vars.toString());
        assertTrue(vars.contains("model.layers.1.self_attn.v_proj.lora_B.weight"), vars.toString());
        assertTrue(vars.contains("model.layers.0.self_attn.k_proj.weight"), "an adapted attention keeps q/k/v separate: " + vars);
        assertFalse(vars.stream().anyMatch(v -> v.contains("+")), vars.toString());
        List<String> trainable = new ArrayList<>();
        for (SDVariable v : m.root.params().trainable()) trainable.add(v.name());
        assertTrue(trainable.stream().allMatch(lora::isAdapterKey), trainable.toString());
        assertEquals(8, trainable.size());
        m.root.params().requireComplete(k -> false);
        assertEquals(4, m.root.params().initialised().size() / 2);

        TinyDecoder plain = new TinyDecoder(CFG, ParamSource.of(W), LoadOptions.inference().dtype(DataType.DOUBLE), -1, false);
        assertArrayEquals(Reference.of(out(plain)), Reference.of(out(m)), 1e-12);
        // DoRA too: m starts at ‖W‖ per row, so k = 1.
        LoraAdapters dora = LoraAdapters.fresh(qv().withDora(true), 3);
        assertArrayEquals(Reference.of(out(plain)), Reference.of(out(build(dora, true, ParamSource.of(W)))), 1e-12);
        INDArray m0 = dora.layers().get("model.layers.0.self_attn.q_proj").magnitude().getArr();
        assertArrayEquals(Reference.of(W.get("model.layers.0.self_attn.q_proj.weight").norm2(1)), Reference.of(m0), 1e-12);
    }

    @Test void onlyTargetedLayersLoseTheFusedProjection() {
        LoraAdapters lora = LoraAdapters.fresh(qv().withLayers(List.of(1), null), 3);
        TinyDecoder m = build(lora, true, ParamSource.of(W));
        Set<String> vars = m.root.params().variables().keySet();
        assertTrue(vars.contains("model.layers.0.self_attn.q_proj+k_proj+v_proj.weight"), vars.toString());
        assertTrue(vars.contains("model.layers.1.self_attn.q_proj.lora_A.weight"), vars.toString());
        assertEquals(2, lora.layers().size());
        assertTrue(lora.linearModules().contains("model.layers.0.mlp.down_proj"));
    }

    @Test void trainableReportAsPeftPrintsIt() {
        LoraAdapters lora = LoraAdapters.fresh(qv(), 3);
        TinyDecoder m = build(lora, true, ParamSource.of(W));
        TrainableReport r = TrainableReport.of(m.root.params());
        long base = W.values().stream().mapToLong(INDArray::length).sum();
        long adapters = 2 * ((2 * 8 + 16 * 2) + (2 * 8 + 8 * 2));   // per layer: q (A [2,8], B [16,2]) + v (A [2,8], B [8,2])
        assertEquals(adapters, r.trainableCount());
        assertEquals(base + adapters, r.totalCount());
        assertEquals(String.format(java.util.Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f", adapters,
                base + adapters, 100.0 * adapters / (base + adapters)), r.toString());
        assertTrue(r.table().contains("model.layers.0.self_attn.q_proj.lora_B.weight"), r.table());
    }

    @Test void gradientThroughTheStack() {
        // init_lora_weights=false: B is not zero, so every adapter tensor has a non-trivial gradient.
        LoraAdapters lora = LoraAdapters.fresh(qv().withInit("false"), 5);
        TinyDecoder m = build(lora, true, ParamSource.of(W));
        GradientCheck.of(m.sd, m.y).feed(m.feed(X, 0, null)).maxPerArray(12).check();
    }

    @Test void gradientThroughTheStackDora() {
        LoraAdapters dora = LoraAdapters.fresh(LoraConfig.dora(2, 4, Targets.names("v_proj", "down_proj")).withInit("false"), 6)
                .normAsConstant();
        TinyDecoder m = build(dora, true, ParamSource.of(W));
        GradientCheck.of(m.sd, m.y).feed(m.feed(X, 0, null)).maxPerArray(12).check();
    }

    @Test void mergedModelEqualsAdaptedAndSavedAdapterReloads(@TempDir Path tmp) throws Exception {
        for (boolean useDora : new boolean[] {false, true}) {
            LoraConfig cfg = LoraConfig.lora(2, 4, Targets.names("q_proj", "v_proj", "up_proj")).withInit("false").withDora(useDora);
            LoraAdapters lora = LoraAdapters.fresh(cfg, 9);
            TinyDecoder m = build(lora, true, ParamSource.of(W));
            INDArray y = out(m);

            LoraAdapters.Merge merged = lora.merge(true);
            assertEquals(6, merged.weights().size());
            TinyDecoder plain = new TinyDecoder(CFG, ParamSource.overlay(ParamSource.of(W), ParamSource.of(merged.weights())),
                    LoadOptions.inference().dtype(DataType.DOUBLE), -1, false);
            assertArrayEquals(Reference.of(y), Reference.of(out(plain)), 1e-10, "merged == unmerged, dora=" + useDora);
            lora.unmerge(merged).forEach((k, v) -> assertArrayEquals(Reference.of(W.get(k)), Reference.of(v), 1e-12, k));

            Path dir = tmp.resolve("adapter-" + useDora);
            lora.save(dir);
            PeftAdapter a = PeftAdapter.read(dir);
            LoraAdapters loaded = LoraAdapters.load(a.config());
            TinyDecoder again = build(loaded, false, a.over(ParamSource.of(W), ""));
            again.root.params().requireComplete(k -> false);
            assertTrue(again.root.params().trainable().isEmpty());
            // The file is F32: compare with the adapter rounded the same way.
            assertArrayEquals(Reference.of(y), Reference.of(out(again)), 1e-5, "reloaded, dora=" + useDora);
        }
    }

    @Test void loadedAdapterMissingATensorFails() {
        LoraAdapters lora = LoraAdapters.load(qv());
        bloom4j.nn.ParameterException e = assertThrows(bloom4j.nn.ParameterException.class, () -> build(lora, false, ParamSource.of(W)));
        assertTrue(e.getMessage().startsWith("missing 'model.layers.0.self_attn.q_proj.lora_A.weight' [2, 8]"), e.getMessage());
    }

    @Test void noMatchIsAnErrorListingTheLinears() {
        LoraAdapters lora = LoraAdapters.fresh(LoraConfig.lora(2, 4, Targets.names("to_qkv")), 1);
        build(lora, true, ParamSource.of(W));
        IllegalStateException e = assertThrows(IllegalStateException.class, lora::requireMatched);
        assertTrue(e.getMessage().startsWith("Target modules [to_qkv] not found in the base model; its linear layers are "
                + "[model.layers.0.self_attn.o_proj, model.layers.0.self_attn.q_proj"), e.getMessage());
    }

    @Test void rootPrefixIsStrippedFromModuleNames() {
        LoraAdapters lora = LoraAdapters.fresh(LoraConfig.lora(2, 4, Targets.names("layers.0.self_attn.q_proj")), 1).under("model");
        TinyDecoder m = build(lora, true, ParamSource.of(W));
        assertEquals(List.of("layers.0.self_attn.q_proj"), List.copyOf(lora.layers().keySet()));
        assertEquals(Set.of("layers.0.self_attn.q_proj.lora_A.weight", "layers.0.self_attn.q_proj.lora_B.weight"), lora.tensors().keySet());
        assertEquals(VariableType.VARIABLE, m.sd.getVariable("model.layers.0.self_attn.q_proj.lora_A.weight").getVariableType());
    }

    @Test void gaussianInitHasStdOneOverR() {
        LoraAdapters lora = LoraAdapters.fresh(LoraConfig.lora(4, 4, Targets.names("gate_proj")).withInit("gaussian"), 2);
        build(lora, true, ParamSource.of(W));
        INDArray a = lora.layers().get("model.layers.0.mlp.gate_proj").loraA().getArr();
        assertEquals(0.0, lora.layers().get("model.layers.0.mlp.gate_proj").loraB().getArr().sumNumber().doubleValue());
        double std = a.stdNumber().doubleValue();
        assertTrue(std > 0.15 && std < 0.35, "std " + std + " for 1/r = 0.25");
        LoraAdapters kaiming = LoraAdapters.fresh(LoraConfig.lora(4, 4, Targets.names("gate_proj")), 2);
        build(kaiming, true, ParamSource.of(W));
        double bound = 1 / Math.sqrt(CFG.hidden());
        assertTrue(kaiming.layers().get("model.layers.0.mlp.gate_proj").loraA().getArr().amaxNumber().doubleValue() <= bound);
    }
}
