package bloom4j.train;

import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.LoraConfig;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.nn.lora.Targets;
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

/** LoRA and DoRA fine-tuning of a tiny Llama LM on synthetic data: the training proof, until the SongBloom AR model lands. */
class TrainerTest {
    static final TinyLm.Config C = TinyLm.SMALL;
    static final Map<String, INDArray> W = TinyLm.weights(C, 1, DataType.FLOAT);

    record Run(TinyLm lm, LoraAdapters lora, Trainer trainer, List<Trainer.Step> steps, String log) {}

    static Run train(LoraConfig cfg, int steps, double lr) {
        LoraAdapters lora = LoraAdapters.fresh(cfg, 7).training(true);
        TinyLm lm = new TinyLm(C, ParamSource.of(W), LoadOptions.inference().adapters(lora, true), false);
        lora.requireMatched();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Trainer tr = new Trainer(lm.root.params(), lm.ce.loss(),
                Trainer.Options.of(new WarmupCosine(lr, 3, steps, 0.1)).clipNorm(1.0).seed(3), lora,
                new PrintStream(buf, true, StandardCharsets.UTF_8));
        SplittableRandom data = new SplittableRandom(5);
        List<Trainer.Step> out = new ArrayList<>();
        for (int i = 0; i < steps; i++) out.add(tr.step(lm.step(List.<long[][]>of(TinyLm.batch(4, 8, C.vocab(), data)))));
        return new Run(lm, lora, tr, out, buf.toString(StandardCharsets.UTF_8));
    }

    static double mean(List<Trainer.Step> s, int from, int to) {
        return s.subList(from, to).stream().mapToDouble(Trainer.Step::loss).average().orElseThrow();
    }

    /** LoRA on q_proj, v_proj (the SongBloom preset's targets): loss falls, base untouched, adapter reloads, merge agrees. */
    @Test void loraFineTune(@TempDir Path tmp) throws Exception {
        Run r = train(LoraConfig.lora(4, 8, Targets.names("q_proj", "v_proj")), 40, 2e-2);
        checkRun(r, tmp, false);
    }

    /** DoRA with dropout on the attention and MLP projections. */
    @Test void doraFineTuneWithDropout(@TempDir Path tmp) throws Exception {
        Run r = train(LoraConfig.dora(4, 8, Targets.names("q_proj", "v_proj", "o_proj")).withDropout(0.1), 40, 2e-2);
        assertEquals(6, r.lora.dropoutMasks().size());
        checkRun(r, tmp, true);
    }

    static void checkRun(Run r, Path tmp, boolean dropout) throws Exception {
        // The trainable set was printed first: PEFT's line, then each tensor.
        assertTrue(r.log.startsWith("training " + r.trainer.parameters().size() + " tensors: trainable params: "), r.log);
        assertTrue(r.log.contains("model.layers.1.self_attn.v_proj.lora_B.weight"), r.log);
        double first = mean(r.steps, 0, 3), last = mean(r.steps, r.steps.size() - 5, r.steps.size());
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last + "\n" + r.log);

        // Base weights bit-identical after training; every adapter tensor moved.
        Map<String, SDVariable> vars = r.lm.root.params().variables();
        for (var e : W.entrySet()) {
            if (e.getKey().startsWith("aux_head")) continue;
            SDVariable v = vars.get(e.getKey());
            if (v == null) continue;   // fused into q+k+v in layers without adapters
            assertEquals(e.getValue(), v.getArr(), e.getKey());
        }
        assertTrue(vars.keySet().stream().noneMatch(k -> k.contains("+")), "every layer is adapted: nothing fused");

        // The saved adapter reloads (eval graph) to the training graph's outputs, bit for bit.
        Path dir = tmp.resolve("adapter");
        r.lora.save(dir);
        PeftAdapter a = PeftAdapter.read(dir);
        TinyLm reloaded = new TinyLm(C, a.over(ParamSource.of(W), ""), LoadOptions.inference().adapters(LoraAdapters.load(a.config()),
                false), false);
        long[][] probe = TinyLm.batch(2, 8, C.vocab(), new SplittableRandom(99));
        java.util.HashMap<String, INDArray> feed = new java.util.HashMap<>(r.lm.inputs(probe));
        feed.putAll(r.lora.noDropout(16));
        INDArray y = r.lm.logits(feed);
        INDArray y2 = reloaded.logits(reloaded.inputs(probe));
        if (dropout) assertEquals(0.0, y.sub(y2).amaxNumber().doubleValue(), 1e-5, "ones-mask train formula vs eval formula");
        else assertEquals(y, y2, "reloaded adapter, same graph structure: identical outputs");

        // The merged plain model equals the adapted one.
        LoraAdapters.Merge merged = r.lora.merge(true);
        TinyLm plain = new TinyLm(C, ParamSource.overlay(ParamSource.of(W), ParamSource.of(merged.weights())), LoadOptions.inference(),
                false);
        INDArray y3 = plain.logits(plain.inputs(probe));
        double scale = y.amaxNumber().doubleValue();
        assertEquals(0.0, y.sub(y3).amaxNumber().doubleValue() / scale, 1e-5, "merged == unmerged");
    }

    /** N micro-batches (of unequal token counts, with ignored labels) give the gradient and the update of one batch of N. */
    @Test void accumulationEqualsOneBatch() {
        LoraConfig cfg = LoraConfig.dora(2, 4, Targets.names("q_proj", "v_proj", "down_proj")).withInit("false");
        long[][] all = TinyLm.batch(4, 6, C.vocab(), new SplittableRandom(11));
        all[1][3] = TinyLm.IGNORE;
        all[2][1] = TinyLm.IGNORE;
        all[2][5] = TinyLm.IGNORE;
        Map<String, INDArray> wd = TinyLm.weights(C, 1, DataType.DOUBLE);
        List<Trainer> trainers = new ArrayList<>();
        List<Trainer.Result> results = new ArrayList<>();
        for (int split : new int[] {1, 3}) {
            LoraAdapters lora = LoraAdapters.fresh(cfg, 7).training(true);
            TinyLm lm = new TinyLm(C, ParamSource.of(wd), LoadOptions.inference().dtype(DataType.DOUBLE).adapters(lora, true), false);
            Trainer tr = new Trainer(lm.root.params(), lm.ce.loss(), Trainer.Options.of(WarmupCosine.constant(1e-2)).clipNorm(0.5),
                    lora, null);
            List<long[][]> micro = split == 1 ? List.<long[][]>of(all)
                    : List.<long[][]>of(new long[][] {all[0]}, new long[][] {all[1], all[2]}, new long[][] {all[3]});
            results.add(tr.gradients(lm.step(micro)));
            tr.step(lm.step(micro));
            trainers.add(tr);
        }
        assertEquals(results.get(0).loss(), results.get(1).loss(), 1e-12);
        for (String k : results.get(0).gradients().keySet()) {
            INDArray g1 = results.get(0).gradients().get(k), g3 = results.get(1).gradients().get(k);
            assertEquals(0.0, g1.sub(g3).amaxNumber().doubleValue(), 1e-12, k);
            assertTrue(g1.amaxNumber().doubleValue() > 0, k);
        }
        for (String k : trainers.get(0).parameters().keySet()) {
            INDArray p1 = trainers.get(0).parameters().get(k), p3 = trainers.get(1).parameters().get(k);
            assertEquals(0.0, p1.sub(p3).amaxNumber().doubleValue(), 1e-12, k);
        }
    }

    /** An adapter whose output never reaches the loss stops the run at the first step, named. */
    @Test void guardStopsOnAdaptersWithoutGradient() {
        LoraAdapters lora = LoraAdapters.fresh(LoraConfig.lora(2, 4, Targets.names("q_proj", "aux_head")), 7).training(true);
        TinyLm lm = new TinyLm(C, ParamSource.of(W), LoadOptions.inference().adapters(lora, true), true);
        Trainer tr = new Trainer(lm.root.params(), lm.ce.loss(), Trainer.Options.of(WarmupCosine.constant(1e-2)), lora, null);
        List<Trainer.MicroBatch> mb = lm.step(List.<long[][]>of(TinyLm.batch(2, 5, C.vocab(), new SplittableRandom(1))));
        TrainingException e = assertThrows(TrainingException.class, () -> tr.step(mb));
        assertTrue(e.getMessage().contains("aux_head.lora_B.weight [4, 2]: "), e.getMessage());
        assertFalse(e.getMessage().contains("q_proj"), "connected adapters pass: " + e.getMessage());
        assertFalse(e.getMessage().contains("aux_head.lora_A"), "A waits for B to be non-zero: " + e.getMessage());
        assertEquals(0, tr.steps());
        for (SDVariable v : lm.root.params().trainable()) {
            if (v.name().contains("lora_B")) assertEquals(0.0, v.getArr().amaxNumber().doubleValue(), v.name() + " was not updated");
        }
    }
}
