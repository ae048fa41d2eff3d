package bloom4j.train.songbloom;

import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.train.AdamW;
import bloom4j.train.ForkLambdaLr;
import bloom4j.train.LightningResume;
import bloom4j.train.Trainer;
import bloom4j.train.WarmupCosine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Parity kind {@code songbloom-lora-step}: one LoRA and one DoRA fine-tuning step of SongBloom (PEFT adapters on the AR's
 * {@code q_proj}/{@code v_proj}) against the upstream forward + PEFT + torch's clipping, AdamW and LambdaLR, all in the product code
 * path: {@link SongBloomObjective} for the loss, {@link Trainer} for gradients, clipping and AdamW, {@link PeftAdapter} for the
 * adapter folders and {@link LightningResume} for the fork-style checkpoint, from which a second step is run and compared.
 */
public final class SongBloomLoraStepParity implements ParityKind {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override public String kind() { return "songbloom-lora-step"; }

    @Override public String description() {
        return "SongBloom LoRA/DoRA fine-tuning step: losses, adapter gradients, clip norm, AdamW step and moments, PEFT folders, Lightning resume";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        JsonNode cfg = f.config();
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            SongBloomConfig c = SongBloomConfig.resolve(cfg, w);
            DitConfig dc = DitConfig.fromCheckpoint(w, c.numHeads());
            SongBloomObjective.Batch batch = SongBloomTrainForwardParity.batch(f, c);
            compareLyricCondition(f, report, w, c);
            SongBloomObjective.Draws draws = new SongBloomObjective.Draws(SongBloomTrainForwardParity.floats(f, "rng_0_rand"),
                    SongBloomTrainForwardParity.floats(f, "rng_1_rand"), SongBloomTrainForwardParity.floats(f, "rng_2_randn"),
                    SongBloomTrainForwardParity.floats(f, "rng_3_randn_like"));
            JsonNode step = cfg.path("training_step");
            double hDropout = step.path("h_dropout").asDouble();
            double lr = step.path("optimizer").path("lr").asDouble();
            double wd = step.path("optimizer").path("weight_decay").asDouble();
            ForkLambdaLr lambda = new ForkLambdaLr(step.path("lr_scheduler").path("warmup_steps").asInt(),
                    step.path("lr_scheduler").path("max_steps").asInt());
            for (var it = cfg.path("peft").path("cases").fieldNames(); it.hasNext(); ) {
                String name = it.next();
                List<String> order = new ArrayList<>();
                cfg.path("peft").path("param_order").path(name).forEach(n -> order.add(n.asText()));
                runCase(f, report, w, c, dc, batch, draws, name, order, hDropout, lr, wd, lambda);
            }
        }
    }

    /** The lyric condition from the fixture's lyric strings through bloom4j's tokenizer and conditioner, against the recorded one. */
    private static void compareLyricCondition(Fixture f, ParityReport report, TensorSource w, SongBloomConfig c) throws IOException {
        LyricConditioner lc = LyricConditioner.load(w, LyricVocabulary.released(), c.lyricsMaxLen());
        List<bloom4j.models.songbloom.TokenizedLyrics> l = new ArrayList<>();
        for (JsonNode s : f.json().path("lyrics")) l.add(lc.tokenizer().tokenize(s.asText()));
        report.compare("cond_lyrics (from the lyric strings)", lc.batch(l), f.tensor("cond_lyrics"));
    }

    private record Run(SongBloomObjective objective, LoraAdapters adapters, Trainer trainer) { }

    private static Run build(TensorSource w, SongBloomConfig c, DitConfig dc, PeftAdapter adapter, int batch, int t, double wd) {
        LoraAdapters lora = LoraAdapters.load(adapter.config()).under("model").training(true);
        SongBloomObjective obj = SongBloomObjective.build(c, dc, adapter.over(ParamSource.of(w), "model"),
                LoadOptions.inference().adapters(lora, true), batch, t, SongBloomObjective.Conditions.GIVEN, LyricVocabulary.released(),
                SongBloomObjective.Layout.PER_LAYER);
        lora.requireMatched();
        Trainer.Options o = Trainer.Options.of(WarmupCosine.constant(1)).adam(AdamW.Settings.torchDefaults().weightDecay(wd)).clipNorm(1.0)
                .average(true).decay(n -> true);   // the fixture decays every adapter tensor (torch.optim.AdamW over them alone)
        Trainer tr = new Trainer(obj, o, lora, null).report(obj.reported());
        return new Run(obj, lora, tr);
    }

    private static void runCase(Fixture f, ParityReport report, TensorSource w, SongBloomConfig c, DitConfig dc,
                                SongBloomObjective.Batch batch, SongBloomObjective.Draws draws, String name, List<String> order,
                                double hDropout, double lr, double wd, ForkLambdaLr lambda) throws Exception {
        PeftAdapter a0 = PeftAdapter.read(f.dir().resolve("adapter_" + name + "_step0"));
        for (String k : order) {
            report.compare(name + " adapter_" + name + "_step0 " + k, a0.tensors().get(moduleKey(k)), f.tensor("init." + k), f.tolerance("init"));
        }
        int t = batch.sketch()[0].length;
        Run run = build(w, c, dc, a0, batch.size(), t, wd);
        Map<String, INDArray> feed = run.objective().feed(batch, draws, hDropout);
        SongBloomObjective obj = run.objective();
        Map<String, INDArray> out = obj.output(new java.util.HashMap<>(feed), obj.logits().name(), obj.prediction().name(),
                obj.ditH().name());
        int t1 = t + 1;
        compare(f, report, name + ".ar_logit", out.get(obj.logits().name()).reshape(batch.size(), t1, c.sketchVocabulary().classes()));
        compare(f, report, name + ".nar_pred", out.get(obj.prediction().name()));
        compare(f, report, name + ".nar_in_h", out.get(obj.ditH().name()));

        // Step 1 (the fixture sets the rate to lr for it), then the state after it.
        Trainer.Result r = run.trainer().gradients(List.of(new Trainer.MicroBatch(feed, obj.rows())));
        compareLosses(f, report, name + ".", r);
        for (String k : order) compare(f, report, name + ".grad." + k, r.gradients().get(graphName(k)).dup());
        Trainer.Step s1 = run.trainer().apply(r, lr);
        compareStep(f, report, name + ".step1", s1, run, order, lr, lr * lambda.lambda(1));
        report.compare(name + ".grad_norm_preclip", Nd4j.scalar((float) s1.gradNorm()), f.tensor(name + ".grad_norm_preclip"),
                f.tolerance(name + ".grad_norm_preclip"));
        report.compare(name + ".clip_coef", Nd4j.scalar((float) s1.clipCoef()), f.tensor(name + ".clip_coef"), f.tolerance(name + ".clip_coef"));

        // The adapter folder after step 1, as PEFT's save_pretrained wrote it.
        Path tmp = Files.createTempDirectory("bloom4j-lora-step");
        try {
            run.adapters().save(tmp);
            PeftAdapter mine = PeftAdapter.read(tmp), ref = PeftAdapter.read(f.dir().resolve("adapter_" + name + "_step1"));
            boolean same = JSON.readTree(tmp.resolve(PeftAdapter.CONFIG_FILE).toFile())
                    .equals(JSON.readTree(f.dir().resolve("adapter_" + name + "_step1").resolve(PeftAdapter.CONFIG_FILE).toFile()));
            report.check(name + " adapter_config.json equals adapter_" + name + "_step1's", same,
                    same ? "" : Files.readString(tmp.resolve(PeftAdapter.CONFIG_FILE)));
            report.check(name + " adapter tensor names equal adapter_" + name + "_step1's",
                    mine.tensors().keySet().equals(ref.tensors().keySet()), mine.tensors().size() + " tensors");
            for (String k : order) {
                report.compare(name + " adapter_" + name + "_step1 " + k, mine.tensors().get(moduleKey(k)), ref.tensors().get(moduleKey(k)),
                        f.tolerance(name + ".step1.param." + k));
            }
        } finally {
            try (var files = Files.walk(tmp)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }

        // Step 2 from the Lightning checkpoint: adapters, AdamW moments and step, the param group's rate, the scheduler position.
        Path ckpt = f.dir().resolve("resume_" + name + "_step1.ckpt");
        LightningResume res = LightningResume.read(ckpt, SongBloomLoraStepParity::graphName);
        report.check(name + " resume checkpoint: global_step 1, epoch 0, scheduler at 1", res.globalStep() == 1 && res.epoch() == 0
                && res.schedulerLastEpoch() == 1, "global_step " + res.globalStep() + ", epoch " + res.epoch());
        Map<String, INDArray> tensors = new java.util.LinkedHashMap<>();
        res.tensors().forEach((k, v) -> tensors.put(k.substring("model.".length()), v));
        Run resumed = build(w, c, dc, new PeftAdapter(a0.config(), tensors), batch.size(), t, wd);
        resumed.trainer().optimizer().load(res.adamState(), res.adamSteps(ckpt));
        resumed.trainer().resumeAt(Math.toIntExact(res.globalStep()));
        Trainer.Result r2 = resumed.trainer().gradients(List.of(new Trainer.MicroBatch(resumed.objective().feed(batch, draws, hDropout),
                resumed.objective().rows())));
        report.compare(name + ".step2.loss_total", Nd4j.scalar((float) r2.loss()), f.tensor(name + ".step2.loss_total"),
                f.tolerance(name + ".step2.loss_total"));
        for (String k : order) compare(f, report, name + ".step2.grad." + k, r2.gradients().get(graphName(k)).dup());
        Trainer.Step s2 = resumed.trainer().apply(r2, res.lr());
        report.compare(name + ".step2.grad_norm_preclip", Nd4j.scalar((float) s2.gradNorm()), f.tensor(name + ".step2.grad_norm_preclip"),
                f.tolerance(name + ".step2.grad_norm_preclip"));
        report.compare(name + ".step2.clip_coef", Nd4j.scalar((float) s2.clipCoef()), f.tensor(name + ".step2.clip_coef"),
                f.tolerance(name + ".step2.clip_coef"));
        compareStep(f, report, name + ".step2", s2, resumed, order, res.lr(), res.initialLr() * lambda.lambda(res.schedulerLastEpoch() + 1));
    }

    private static void compareLosses(Fixture f, ParityReport report, String p, Trainer.Result r) throws IOException {
        report.compare(p + "loss_total", Nd4j.scalar((float) r.loss()), f.tensor(p + "loss_total"), f.tolerance(p + "loss_total"));
        report.compare(p + "loss_ce", Nd4j.scalar(r.reported().get("ar_loss").floatValue()), f.tensor(p + "loss_ce"), f.tolerance(p + "loss_ce"));
        report.compare(p + "loss_flow", Nd4j.scalar(r.reported().get("flow_loss").floatValue()), f.tensor(p + "loss_flow"),
                f.tolerance(p + "loss_flow"));
    }

    private static void compareStep(Fixture f, ParityReport report, String p, Trainer.Step s, Run run, List<String> order, double lrUsed,
                                    double lrNext) throws IOException {
        report.compare(p + ".lr_used", Nd4j.scalar((float) lrUsed), f.tensor(p + ".lr_used"), f.tolerance(p + ".lr_used"));
        report.compare(p + ".lr_next", Nd4j.scalar((float) lrNext), f.tensor(p + ".lr_next"), f.tolerance(p + ".lr_next"));
        Map<String, INDArray> state = run.trainer().optimizer().state();
        for (String k : order) {
            String g = graphName(k);
            compare(f, report, p + ".param." + k, run.trainer().parameters().get(g));
            compare(f, report, p + ".exp_avg." + k, state.get(g + ".exp_avg"));
            compare(f, report, p + ".exp_avg_sq." + k, state.get(g + ".exp_avg_sq"));
        }
        report.compare(p + ".step", Nd4j.scalar((float) run.trainer().optimizer().steps()), f.tensor(p + ".step"), f.tolerance(p + ".step"));
    }

    private static void compare(Fixture f, ParityReport report, String name, INDArray got) throws IOException {
        report.compare(name, got.castTo(DataType.FLOAT), f.tensor(name), f.tolerance(name));
    }

    /** PEFT's file key {@code base_model.model.<P>...} as the module-relative key of a {@link PeftAdapter}. */
    static String moduleKey(String fileKey) { return fileKey.substring(PeftAdapter.PREFIX.length()); }

    /** A file key, or the in-memory name of a Lightning state dict, as the graph's variable name ({@code model.<P>...}). */
    static String graphName(String key) { return SongBloomAdapterNames.graphName(key); }
}
