package bloom4j.train.songbloom;

import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.TokenizedLyrics;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.nn.GradientCheck;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.TestFixtures;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two SongBloom training fixtures through the parity harness, and a double-precision gradient check of the objective. */
class SongBloomTrainParityTest {


    @Test void trainForwardParity() throws Exception {
        assertEquals(20, TestFixtures.assertParityReport("songbloom-train-forward").lines().stream().filter(ParityReport.Line::numeric).count());
    }

    @Test void loraStepParity() throws Exception {
        ParityReport report = TestFixtures.assertParityReport("songbloom-lora-step");
        // per case: 3 forward outputs, 3 losses, grads, step 1 (2 lr + 3 per tensor + step), norm, coef, adapter file tensors,
        // step 2 (loss, grads, norm, coef, 2 lr, 3 per tensor, step); and the lyric condition once
        long numeric = report.lines().stream().filter(ParityReport.Line::numeric).count();
        int lora = 8, dora = 12;
        long expected = 1 + caseLines(lora) + caseLines(dora);
        assertEquals(expected, numeric);
    }

    private static long caseLines(int tensors) {
        return tensors /* init */ + 3 + 3 + tensors + (2 + 3L * tensors + 1) + 2 + tensors + (1 + tensors + 2 + 2 + 3L * tensors + 1);
    }

    /** Per-layer recomputation gives the one-graph loss and gradients (same ops; float rounding only), tables and adapters alike. */
    @Test void perLayerEqualsOneGraph() throws Exception {
        try (Fixture f = Fixture.open(TestFixtures.dir("songbloom-lora-step")); TensorSource w = Checkpoints.open(f.checkpoint())) {
            SongBloomConfig c = SongBloomConfig.resolve(f.config(), w);
            DitConfig dc = DitConfig.fromCheckpoint(w, c.numHeads());
            PeftAdapter a0 = PeftAdapter.read(f.dir().resolve("adapter_dora_step0"));
            String table = LyricConditioner.PREFIX + "output_proj.weight";
            java.util.function.Predicate<String> trained = k -> k.equals(table) || k.equals("model.skeleton_emb.weight")
                    || k.startsWith("model.skeleton_classifier.");
            SongBloomObjective.Batch given = SongBloomTrainForwardParity.batch(f, c);
            Map<String, Double> loss = new java.util.HashMap<>();
            List<Map<String, INDArray>> grads = new ArrayList<>();
            for (SongBloomObjective.Layout layout : SongBloomObjective.Layout.values()) {
                LoraAdapters lora = LoraAdapters.load(a0.config()).under("model").training(true);
                SongBloomObjective obj = SongBloomObjective.build(c, dc, a0.over(ParamSource.of(w), "model"),
                        LoadOptions.inference().trainable(trained).adapters(lora, true), 2, 12, SongBloomObjective.Conditions.IN_GRAPH,
                        LyricVocabulary.released(), layout);
                List<TokenizedLyrics> lyrics = new ArrayList<>();
                for (var s : f.json().path("lyrics")) lyrics.add(obj.lyricGraph().tokenizer().tokenize(s.asText()));
                SongBloomObjective.Batch b = new SongBloomObjective.Batch(f.tensor("cond_prompt_wav"), lyrics, null, given.sketch(),
                        given.xLen(), new boolean[] {true, true}, given.latents());
                SongBloomObjective.Draws d = SongBloomObjective.Draws.sample(new SplittableRandom(9), b.validBlocks(c.blockSize()),
                        c.blockSize(), c.latentDim(), true);
                var ev = obj.evaluate(obj.feed(b, d, 0.5), obj.reported());
                loss.put(layout.name(), ev.loss());
                assertEquals(obj.parameters().keySet(), ev.gradients().keySet(), layout + ": every trained tensor gets a gradient");
                grads.add(ev.gradients());
            }
            assertEquals(loss.get("ONE_GRAPH"), loss.get("PER_LAYER"), 1e-6);
            for (var e : grads.get(0).entrySet()) {
                INDArray a = e.getValue(), b = grads.get(1).get(e.getKey());
                double scale = Math.max(1e-3, a.amaxNumber().doubleValue());
                assertTrue(a.sub(b).amaxNumber().doubleValue() <= 1e-5 * scale, e.getKey() + ": " + a.sub(b).amaxNumber() + " of " + scale);
            }
            assertEquals(13 + 4, grads.get(0).size(), grads.get(0).keySet().toString());   // 12 DoRA tensors, lyric table, skeleton_emb, classifier x3
        }
    }

    /**
     * ∂loss/∂(adapters, lyric table) in double precision against central differences: the flow term's gradient reaches the LoRA
     * through h, and the lyric embedding trains through the in-graph conditioner.
     */
    @Test void objectiveGradientsDouble() throws Exception {
        try (Fixture f = Fixture.open(TestFixtures.dir("songbloom-lora-step")); TensorSource w = Checkpoints.open(f.checkpoint())) {
            SongBloomConfig c = SongBloomConfig.resolve(f.config(), w);
            DitConfig dc = DitConfig.fromCheckpoint(w, c.numHeads());
            PeftAdapter a0 = PeftAdapter.read(f.dir().resolve("adapter_lora_step0"));
            LoraAdapters lora = LoraAdapters.load(a0.config()).under("model").training(true);
            String table = LyricConditioner.PREFIX + "output_proj.weight";
            SongBloomObjective obj = SongBloomObjective.build(c, dc, a0.over(ParamSource.of(w), "model"),
                    LoadOptions.inference().dtype(DataType.DOUBLE).trainable(table::equals).adapters(lora, true), 2, 12,
                    SongBloomObjective.Conditions.IN_GRAPH, LyricVocabulary.released());
            SongBloomObjective.Batch given = SongBloomTrainForwardParity.batch(f, c);
            List<TokenizedLyrics> lyrics = new ArrayList<>();
            for (var s : f.json().path("lyrics")) lyrics.add(obj.lyricGraph().tokenizer().tokenize(s.asText()));
            INDArray prompt = f.tensor("cond_prompt_wav");
            SongBloomObjective.Batch b = new SongBloomObjective.Batch(prompt, lyrics, null, given.sketch(), given.xLen(),
                    new boolean[] {true, false}, given.latents());
            SongBloomObjective.Draws d = SongBloomObjective.Draws.sample(new SplittableRandom(5), b.validBlocks(c.blockSize()),
                    c.blockSize(), c.latentDim(), true);
            Map<String, INDArray> feed = obj.feed(b, d, 0.5);
            List<String> params = new ArrayList<>(List.of(table));
            lora.layers().values().forEach(l -> {
                params.add(l.loraA().name());
                params.add(l.loraB().name());
            });
            List<GradientCheck.Entry> r = GradientCheck.of(obj.sd(), obj.loss()).feed(feed).params(params.toArray(new String[0]))
                    .maxPerArray(12).check();
            assertEquals(params.size(), r.size());
            for (GradientCheck.Entry e : r) assertTrue(e.passed(), e.toString());
        }
    }
}
