package bloom4j.train.songbloom;

import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.LoraConfig;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.nn.lora.Targets;
import bloom4j.train.LoraPresets;
import bloom4j.train.Trainer;
import bloom4j.train.TrainingException;
import bloom4j.train.WarmupCosine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The training proof on SongBloom's AR (tiny config, random weights, synthetic sketches): LoRA on q_proj/v_proj (the
 * {@link LoraPresets#SONGBLOOM_AR} preset) and DoRA, through the teacher-forced graph and the {@link Trainer}.
 */
class ArLoraTrainingTest {
    static final SongBloomConfig C = SongBloomConfig.tiny();
    static final int B = 4, LP = 6, T = 16;
    static final Map<String, INDArray> W = ArFineTune.randomWeights(C, 0.3, 1, DataType.FLOAT);
    static final WarmupCosine SCHEDULE = new WarmupCosine(3e-2, 3, 40, 0.1);

    record Run(ArFineTune ft, LoraAdapters lora, Trainer trainer, List<Trainer.Step> steps, String log) {}

    static long[] fullLengths(int b) {
        long[] l = new long[b];
        java.util.Arrays.fill(l, T);
        return l;
    }

    static Run train(LoraConfig cfg, int steps) {
        LoraAdapters lora = LoraAdapters.fresh(cfg, 7).training(true);
        ArFineTune ft = ArFineTune.build(C, ParamSource.of(W), LoadOptions.inference().adapters(lora, true), B, LP, T);
        lora.requireMatched();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Trainer tr = new Trainer(ft.graph().params(), ft.crossEntropy().loss(), Trainer.Options.of(SCHEDULE).clipNorm(1.0).seed(3), lora,
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        SplittableRandom data = new SplittableRandom(5);
        List<Trainer.Step> out = new ArrayList<>();
        long[] lens = {T, T, 12, 8};   // rows 2 and 3 EOS-padded: their targets after x_len are ignored
        for (int i = 0; i < steps; i++) out.add(tr.step(ft.step(List.of(ArFineTune.synthetic(C, LP, T, lens, data)))));
        return new Run(ft, lora, tr, out, buf.toString(StandardCharsets.UTF_8));
    }

    static double mean(List<Trainer.Step> s, int from, int to) {
        return s.subList(from, to).stream().mapToDouble(Trainer.Step::loss).average().orElseThrow();
    }

    @Test void loraPresetFineTune(@TempDir Path tmp) throws Exception {
        Run r = train(LoraPresets.SONGBLOOM_AR.config(), 40);
        assertEquals(4, r.lora.layers().size(), "q_proj and v_proj of both layers");
        checkRun(r, tmp, false);
    }

    @Test void doraFineTuneWithDropout(@TempDir Path tmp) throws Exception {
        Run r = train(LoraConfig.dora(8, 16, Targets.names("q_proj", "v_proj")).withDropout(0.1), 40);
        checkRun(r, tmp, true);
    }

    static void checkRun(Run r, Path tmp, boolean dropout) throws Exception {
        // The trainable set is printed first: PEFT's summary line, then each tensor with its shape.
        assertTrue(r.log.startsWith("training " + r.trainer.parameters().size() + " tensors: trainable params: "), r.log);
        assertTrue(r.log.contains("model.ar_transformer.layers.1.self_attn.v_proj.lora_B.weight"), r.log);
        assertFalse(r.log.contains("k_proj.lora"), r.log);

        double first = mean(r.steps, 0, 3), last = mean(r.steps, r.steps.size() - 5, r.steps.size());
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last + "\n" + r.log);

        // AdamW at the warmup-cosine rate; global-norm clipping reported when the norm exceeded 1.
        for (Trainer.Step s : r.steps) {
            assertEquals(SCHEDULE.lr(s.number()), s.lr(), 1e-15);
            assertEquals(s.gradNorm() > 1.0, s.clipped(), s.toString());
        }
        assertTrue(r.steps.stream().anyMatch(Trainer.Step::clipped), "some step was clipped\n" + r.log);
        assertEquals(r.steps.size(), r.trainer.optimizer().steps());

        // Base weights bit-identical after training; every adapter tensor is a variable that moved.
        Map<String, SDVariable> vars = r.ft.graph().params().variables();
        for (var e : W.entrySet()) assertEquals(e.getValue(), vars.get(e.getKey()).getArr(), e.getKey());
        for (SDVariable v : r.ft.graph().params().trainable()) {
            assertTrue(v.name().contains(".lora_"), v.name());
            if (v.name().contains("lora_B")) assertTrue(v.getArr().amaxNumber().doubleValue() > 0, v.name());
        }

        // The saved PEFT folder reloads (eval graph) to the training graph's outputs.
        Path dir = tmp.resolve("adapter");
        r.lora.save(dir);
        PeftAdapter a = PeftAdapter.read(dir);
        ArFineTune reloaded = ArFineTune.build(C, a.over(ParamSource.of(W), ""),
                LoadOptions.inference().adapters(LoraAdapters.load(a.config()), false), B, LP, T);
        ArFineTune.Batch probe = ArFineTune.synthetic(C, LP, T, fullLengths(B), new SplittableRandom(99));
        INDArray y = r.ft.logits(probe, r.lora.noDropout(r.ft.graph().rows()));
        INDArray y2 = reloaded.logits(probe, Map.of());
        double scale = y.amaxNumber().doubleValue();   // FP32 sums in another order: relative tolerances
        if (dropout) assertEquals(0.0, y.sub(y2).amaxNumber().doubleValue() / scale, 5e-6, "ones-mask train formula vs eval formula");
        else assertEquals(y, y2, "reloaded adapter, same graph structure: identical outputs");

        // The merged plain model equals the adapted one.
        LoraAdapters.Merge merged = r.lora.merge(true);
        ArFineTune plain = ArFineTune.build(C, ParamSource.overlay(ParamSource.of(W), ParamSource.of(merged.weights())),
                LoadOptions.inference(), B, LP, T);
        INDArray y3 = plain.logits(probe, Map.of());
        assertEquals(0.0, y.sub(y3).amaxNumber().doubleValue() / scale, 5e-5, "merged == unmerged");
    }

    /** One batch of 4 rows == 2 micro-batches of 2 (unequal valid targets), in double: same loss, gradients and update. */
    @Test void accumulationEqualsOneBatch() {
        LoraConfig cfg = LoraConfig.dora(4, 8, Targets.names("q_proj", "v_proj")).withInit("false");
        Map<String, INDArray> wd = ArFineTune.randomWeights(C, 0.1, 1, DataType.DOUBLE);
        ArFineTune.Batch all = ArFineTune.synthetic(C, LP, T, new long[] {T, 4, 12, T}, new SplittableRandom(11));
        List<Trainer> trainers = new ArrayList<>();
        List<Trainer.Result> results = new ArrayList<>();
        for (int rows : new int[] {4, 2}) {
            LoraAdapters lora = LoraAdapters.fresh(cfg, 7).training(true);
            ArFineTune ft = ArFineTune.build(C, ParamSource.of(wd), LoadOptions.inference().dtype(DataType.DOUBLE).adapters(lora, true),
                    rows, LP, T);
            Trainer tr = new Trainer(ft.graph().params(), ft.crossEntropy().loss(), Trainer.Options.of(WarmupCosine.constant(1e-2))
                    .clipNorm(0.5), lora, null);
            List<ArFineTune.Batch> micro = rows == 4 ? List.of(all) : List.of(ArFineTune.slice(all, 0, 2), ArFineTune.slice(all, 2, 4));
            results.add(tr.gradients(ft.step(micro)));
            tr.step(ft.step(micro));
            trainers.add(tr);
        }
        assertEquals(results.get(0).loss(), results.get(1).loss(), 1e-12);
        for (String k : results.get(0).gradients().keySet()) {
            INDArray g1 = results.get(0).gradients().get(k), g2 = results.get(1).gradients().get(k);
            assertEquals(0.0, g1.sub(g2).amaxNumber().doubleValue(), 1e-12, k);
            assertTrue(g1.amaxNumber().doubleValue() > 0, k);
        }
        for (String k : trainers.get(0).parameters().keySet()) {
            INDArray p1 = trainers.get(0).parameters().get(k), p2 = trainers.get(1).parameters().get(k);
            assertEquals(0.0, p1.sub(p2).amaxNumber().doubleValue(), 1e-12, k);
        }
    }

    /**
     * The field failure "adapters on the AR silently received no gradient": here the data pipeline lost the VAE latents (all
     * zeros), so the adapter on block_conv.1 sees a zero input and its lora_B gets an all-zero gradient. The first step stops, naming
     * it; the q_proj/v_proj adapters, which do get gradient, are not named; nothing is updated.
     */
    @Test void guardStopsOnAdapterWithoutGradient() {
        LoraAdapters lora = LoraAdapters.fresh(LoraConfig.lora(4, 8, Targets.names("q_proj", "v_proj", "block_conv.1")), 7)
                .training(true);
        ArFineTune ft = ArFineTune.build(C, ParamSource.of(W), LoadOptions.inference().adapters(lora, true), 2, LP, T);
        Trainer tr = new Trainer(ft.graph().params(), ft.crossEntropy().loss(), Trainer.Options.of(WarmupCosine.constant(1e-2)), lora,
                null);
        ArFineTune.Batch b = ArFineTune.synthetic(C, LP, T, fullLengths(2), new SplittableRandom(1));
        ArFineTune.Batch lost = new ArFineTune.Batch(b.prefix(), b.sketch(), b.xLen(), b.latents().mul(0));
        TrainingException e = assertThrows(TrainingException.class, () -> tr.step(ft.step(List.of(lost))));
        assertTrue(e.getMessage().contains("model.block_conv.1.lora_B.weight"), e.getMessage());
        assertFalse(e.getMessage().contains("q_proj"), e.getMessage());
        assertEquals(0, tr.steps());
        for (SDVariable v : ft.graph().params().trainable()) {
            if (v.name().contains("lora_B")) assertEquals(0.0, v.getArr().amaxNumber().doubleValue(), v.name() + " was not updated");
        }
        // With the latents present the same run trains.
        assertDoesNotThrow(() -> tr.step(ft.step(List.of(b))));
    }
}
