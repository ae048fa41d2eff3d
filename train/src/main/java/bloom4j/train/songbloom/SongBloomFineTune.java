package bloom4j.train.songbloom;

import bloom4j.models.songbloom.LyricConditioner;
import bloom4j.models.songbloom.LyricFrontEnd;
import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.PromptConditioner;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.TokenizedLyrics;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.nn.Graphs;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.LoraConfig;
import bloom4j.nn.lora.LoraLinear;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.nn.lora.Targets;
import bloom4j.tensor.io.ModelFolder;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.io.TensorSources;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Sha256;
import bloom4j.train.AdamW;
import bloom4j.train.LightningResume;
import bloom4j.train.Trainer;
import bloom4j.train.TrainingException;
import bloom4j.train.WarmupCosine;
import bloom4j.train.data.Split;
import bloom4j.train.data.TrainingJsonl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A SongBloom fine-tuning run ({@code bloom4j train}): cached songs in, a PEFT adapter and the fully trained tensors out.
 *
 * <p><b>Objective and trainable set.</b> {@link SongBloomObjective} (AR cross-entropy + 0.1 × flow MSE through the frozen DiT). LoRA
 * or DoRA on the targeted AR linears (PEFT's matching rule, so {@code q_proj} never matches the DiT's {@code to_qkv}); the lyric
 * embedding rows of the Japanese phones, punctuation and tags (or all rows, or none); {@code skeleton_emb} and the classifier (a new
 * codebook's ids mean nothing to the pretrained tables). AdamW, no decay on embedding tables, biases and norms; warmup-cosine per
 * optimizer step; global-norm clipping at 1.0 after accumulation; the micro-batches of a step averaged (Lightning's
 * {@code accumulate_grad_batches}). The first step refuses a trainable tensor without a usable gradient ({@link
 * bloom4j.train.GradientGuard}).
 *
 * <p><b>Randomness.</b> Every draw (data order per epoch, crops, condition and h/s dropout, t, flow noise, LoRA dropout masks) comes
 * from a generator seeded by (seed, step, micro-batch, purpose). A resumed run therefore needs no generator state: continuing from
 * step n draws what the uninterrupted run drew, and on the same backend the result is bit-identical.
 *
 * <p><b>Run folder.</b> {@code run.json} (settings and the hashes a resume must match), {@code train_split.jsonl}/{@code
 * val_split.jsonl} when split here, {@code metrics.jsonl}, {@code loss.png}, {@code checkpoints/step-N/} (adapter, trained tensors,
 * optimizer moments, {@code state.json}), {@code last/} (the newest checkpoint), {@code best-1/}.. (by {@code val/loss}) and
 * {@code adapter/} (the final adapter). Every folder is written to a temporary sibling and renamed into place.
 */
public final class SongBloomFineTune {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper LINE = new ObjectMapper();
    /** Trained-tensor file of an adapter folder. */
    public static final String EXTRA_FILE = "trainable_extra.safetensors";
    static final String OPTIMIZER_FILE = "optimizer.safetensors", STATE_FILE = "state.json";
    /** Japanese phones of the lyric vocabulary (GPT-SoVITS's symbols kept by SongBloom), punctuation and tags. */
    static final List<String> JAPANESE_ROWS = List.of("a", "i", "u", "e", "o", "I", "U", "N", "cl", "v", "k", "ky", "g", "gy", "s", "sh",
            "z", "j", "t", "ts", "ch", "d", "dy", "n", "ny", "h", "hy", "f", "b", "by", "p", "py", "m", "my", "y", "r", "ry", "w",
            ".", ",", "[verse]", "[chorus]", "[bridge]", "[intro]", "[outro]", "[inst]", "[silence]");
    private static final long VAL_SEED = 0x5eed_0f_7a11L;

    private final FineTuneSettings s;
    private final PrintStream log;

    private SongBloomFineTune(FineTuneSettings s, PrintStream log) {
        this.s = s;
        this.log = log;
    }

    /** What a finished run reports. */
    public record Summary(int steps, double lastLoss, double bestValLoss, Path adapter) { }

    /** Runs (or resumes) the whole fine-tuning. */
    public static Summary run(FineTuneSettings s, PrintStream log) throws IOException {
        return new SongBloomFineTune(s, log).run();
    }

    private record Prepared(String idx, SongCache.Song song, TokenizedLyrics lyric, INDArray prompt) { }

    private Summary run() throws IOException {
        ModelFolder folder = ModelFolder.open(s.model()).requireType("songbloom");
        Files.createDirectories(s.out());
        AtomicFiles.removeStalePartials(s.out());
        Path checkpoints = s.out().resolve("checkpoints");
        Files.createDirectories(checkpoints);
        AtomicFiles.removeStalePartials(checkpoints);

        // Data: the split, the cached songs, the lyrics.
        List<TrainingJsonl.Item> trainItems = TrainingJsonl.read(s.train());
        List<TrainingJsonl.Item> valItems;
        String trainSplitSha, valSplitSha;
        if (s.val() != null) {
            valItems = TrainingJsonl.read(s.val());
            trainSplitSha = Sha256.of(s.train());
            valSplitSha = Sha256.of(s.val());
        } else {
            Path tf = s.out().resolve("train_split.jsonl"), vf = s.out().resolve("val_split.jsonl");
            if (!Files.isRegularFile(tf) || !Files.isRegularFile(vf)) Split.run(s.train(), s.out(), s.valRatio(), s.seed(), Set.of());
            Set<String> valIds = ids(vf), trainIds = ids(tf);
            valItems = trainItems.stream().filter(i -> valIds.contains(i.idx())).toList();
            trainItems = trainItems.stream().filter(i -> trainIds.contains(i.idx())).toList();
            trainSplitSha = Sha256.of(tf);
            valSplitSha = Sha256.of(vf);
            log.printf(Locale.ROOT, "split: %d train, %d validation songs (seed %d) -> %s, %s%n", trainItems.size(), valItems.size(),
                    s.seed(), tf.getFileName(), vf.getFileName());
        }
        if (trainItems.isEmpty()) throw new IllegalArgumentException("no training songs left after the split");
        if (valItems.isEmpty()) throw new IllegalArgumentException("no validation songs: give --val or a larger --val-ratio");

        String baseSha = folder.weightsSha256();
        LyricVocabulary vocab = LyricVocabulary.released();
        String vocabSha = Sha256.of(String.join("\n", vocab.tokens()).getBytes(StandardCharsets.UTF_8));
        SongBloomConfig c;
        DitConfig dc;
        PromptConditioner promptCond;
        LyricConditioner lyricCond;
        try (TensorSource w = folder.openWeights()) {
            c = SongBloomConfig.fromModelFolder(folder, w);
            dc = DitConfig.fromCheckpoint(w, c.numHeads());
            Scope sc = Scope.root(Graphs.create(), ParamSource.of(w), LoadOptions.inference());
            promptCond = PromptConditioner.load(sc.pp(PromptConditioner.SCOPE), c.latentDim(), c.dim(), c.promptMaxLen());
            lyricCond = LyricConditioner.load(w, vocab, c.lyricsMaxLen());
        }
        JsonNode firstMeta = cacheMeta(s.cache(), trainItems.get(0).idx());
        String codebookSha = firstMeta.path("codebook_sha256").asText();
        List<Prepared> train = prepare(trainItems, codebookSha, promptCond, lyricCond, vocab, c);
        List<Prepared> val = prepare(valItems, codebookSha, promptCond, lyricCond, vocab, c);
        double frameRate = firstMeta.path("frame_rate").asDouble(25.0);
        int block = c.blockSize();
        int longest = 0;
        for (Prepared p : train) longest = Math.max(longest, p.song().frames());
        for (Prepared p : val) longest = Math.max(longest, p.song().frames());
        int frames = Math.min(longest, (int) Math.floor(s.maxDurationSeconds() * frameRate / block) * block);
        if (frames < block) throw new IllegalArgumentException("--max-duration " + s.maxDurationSeconds() + " s is shorter than one block");

        // Resume state.
        Resume resume = s.resumeFrom() == null ? null : Resume.read(s.resumeFrom());
        ObjectNode identity = s.identity(JSON);
        ObjectNode hashes = JSON.createObjectNode().put("base_sha256", baseSha).put("codebook_sha256", codebookSha)
                .put("train_split_sha256", trainSplitSha).put("val_split_sha256", valSplitSha).put("lyric_vocab_sha256", vocabSha)
                .put("g2p", "bloom4j-text kuromoji (lucene-analysis-kuromoji 9.12.3)");
        List<String> warnings = new ArrayList<>();
        if (resume != null && resume.state() != null) {
            List<String> diffs = new ArrayList<>();
            JsonNode st = resume.state();
            hashes.fields().forEachRemaining(e -> {
                String was = st.path("hashes").path(e.getKey()).asText(null);
                if (was != null && !was.equals(e.getValue().asText())) diffs.add(e.getKey() + ": checkpoint " + was + ", now " + e.getValue().asText());
            });
            identity.fields().forEachRemaining(e -> {
                JsonNode was = st.path("identity").get(e.getKey());
                if (was != null && !was.toString().equals(e.getValue().toString())) diffs.add(e.getKey() + ": checkpoint " + was + ", now " + e.getValue());
            });
            if (!diffs.isEmpty()) {
                String msg = "--resume-from " + s.resumeFrom() + " does not match this run:\n  " + String.join("\n  ", diffs);
                if (!s.forceResume()) throw new IllegalArgumentException(msg + "\n(pass --force-resume to continue anyway)");
                log.println("WARNING: " + msg + "\n(continuing: --force-resume)");
                warnings.addAll(diffs);
            }
        }

        // The graph: base weights, the checkpoint's trained tensors over them, adapters fresh or from the checkpoint.
        LoraConfig lc = LoraConfig.builder(s.rank(), s.alpha(), Targets.names(s.targets())).dropout(s.dropout()).dora(s.dora()).build();
        if (resume != null && resume.lora() != null) {
            List<String> d = loraDifferences(resume.lora(), lc);
            if (!d.isEmpty()) {
                String msg = "--resume-from " + s.resumeFrom() + " holds another adapter than this run asks for: " + String.join(", ", d);
                if (!s.forceResume()) throw new IllegalArgumentException(msg + " (pass the same LoRA options, or --force-resume)");
                log.println("WARNING: " + msg + " (continuing: --force-resume)");
                warnings.add(msg);
            }
        }
        Set<String> trainedKeys = new HashSet<>();
        String lyricTable = LyricConditioner.PREFIX + "output_proj.weight";
        if (s.lyricRows() != FineTuneSettings.LyricRows.NONE) trainedKeys.add(lyricTable);
        Set<String> sketchTables = Set.of("model.skeleton_emb.weight");
        LoraAdapters lora;
        Trainer trainer;
        SongBloomObjective obj;
        int done = resume == null ? 0 : resume.step();
        try (TensorSource w = folder.openWeights()) {
            ParamSource base = ParamSource.of(resume == null || resume.extra().isEmpty() ? w : TensorSources.overlay(w, resume.extra()));
            ParamSource src = base;
            if (resume != null) {
                lora = LoraAdapters.load(lc).under("model").training(true);
                src = new PeftAdapter(lc, resume.adapter()).over(base, "model");
            } else {
                lora = LoraAdapters.fresh(lc, s.seed()).under("model").training(true);
            }
            java.util.function.Predicate<String> trainable = k -> s.trainAll() ? !k.contains("rotary") : trainedKeys.contains(k)
                    || (s.trainSketchTables() && (sketchTables.contains(k) || k.startsWith("model.skeleton_classifier.")));
            obj = SongBloomObjective.build(c, dc, src, LoadOptions.inference().trainable(trainable).adapters(lora, true), s.batchSize(), frames,
                    SongBloomObjective.Conditions.IN_GRAPH, vocab, SongBloomObjective.Layout.PER_LAYER);
            lora.requireMatched();
        }
        List<String> ditAdapted = lora.layers().keySet().stream().filter(m -> m.startsWith("nar_dit.")).toList();
        if (!ditAdapted.isEmpty() && !s.allowDitLora()) {
            throw new IllegalArgumentException("--targets " + s.targets() + " adapt the DiT (" + ditAdapted.get(0) + (ditAdapted.size() > 1
                    ? " and " + (ditAdapted.size() - 1) + " more" : "") + "); DiT adapters removed the vocals in the fork's runs: pass"
                    + " --allow-dit-lora to do it anyway");
        }
        if (s.allowDitLora()) {
            log.println("WARNING: --allow-dit-lora: adapters on the DiT (" + ditAdapted.size() + " modules). In the fork this produced"
                    + " accompaniment without vocals; listen to the validation songs.");
        }
        int total = totalSteps(train.size());
        WarmupCosine schedule = new WarmupCosine(s.lr(), Math.min(s.warmupSteps(), total), total, 0.0);
        Trainer.Options opts = Trainer.Options.of(schedule).clipNorm(1.0).seed(s.seed()).average(true)
                .adam(AdamW.Settings.torchDefaults().weightDecay(0.01))
                .decay(n -> !n.endsWith(".bias") && !n.contains("norm") && !n.equals(lyricTable) && !n.equals("model.skeleton_emb.weight"));
        trainer = new Trainer(obj, opts, lora, log).report(obj.reported()).logSteps(false);
        if (s.lyricRows() == FineTuneSettings.LyricRows.JA && trainer.parameters().containsKey(lyricTable)) {
            float[] m = new float[vocab.size()];
            for (String sym : JAPANESE_ROWS) if (vocab.contains(sym)) m[vocab.id(sym)] = 1f;
            trainer.maskGradient(lyricTable, Nd4j.create(m, new long[] {vocab.size(), 1}, 'c'));
        }
        if (resume != null) {
            trainer.optimizer().load(resume.moments(), resume.adamSteps());
            trainer.resumeAt(done);
            log.printf(Locale.ROOT, "resumed from %s at step %d (epoch %d)%n", s.resumeFrom(), done, resume.epoch());
        }
        if (done >= total) {
            log.printf(Locale.ROOT, "the run is complete: %d of %d steps done%n", done, total);
        }

        // The loop.
        Path runFile = s.out().resolve("run.json");
        ObjectNode run = JSON.createObjectNode();
        run.set("settings", s.toJson(JSON));
        run.set("identity", identity);
        run.set("hashes", hashes);
        run.put("frames", frames).put("total_steps", total).put("train_songs", train.size()).put("val_songs", val.size());
        if (!warnings.isEmpty()) run.set("resume_warnings", JSON.valueToTree(warnings));
        AtomicFiles.writeString(runFile, JSON.writeValueAsString(run));
        Metrics metrics = Metrics.open(s.out(), done);
        List<Best> best = resume == null ? new ArrayList<>() : new ArrayList<>(resume.best());
        int perEpoch = Math.max(1, train.size() / s.batchSize());
        int valEvery = s.valEverySteps() > 0 ? s.valEverySteps()
                : Math.max(1, (int) Math.round(s.valCheckInterval() * Math.max(1, perEpoch / s.accumulate())));
        long position = (long) done * s.accumulate();                   // micro-batches consumed so far
        double lastLoss = Double.NaN;
        long started = System.nanoTime();
        int stepsHere = 0;
        for (int step = done + 1; step <= total; step++) {
            long t0 = System.nanoTime();
            List<Trainer.MicroBatch> micro = new ArrayList<>();
            long tokens = 0;
            for (int k = 0; k < s.accumulate(); k++, position++) {
                long epoch = position / perEpoch;
                int slot = (int) (position % perEpoch);
                int[] order = order(train.size(), epoch);
                List<Prepared> rows = new ArrayList<>();
                for (int r = 0; r < s.batchSize(); r++) rows.add(train.get(order[slot * s.batchSize() + r]));
                SplittableRandom rng = new SplittableRandom(mix(s.seed(), step, k, 1));
                SongBloomObjective.Batch b = batch(rows, frames, c, promptCond, lyricCond, rng, true);
                SongBloomObjective.Draws d = SongBloomObjective.Draws.sample(rng, b.validBlocks(block), block, c.latentDim(), true);
                for (long l : b.xLen()) tokens += l;
                micro.add(new Trainer.MicroBatch(obj.feed(b, d, s.hDropout()), obj.rows()));
            }
            trainer.reseedDropout(mix(s.seed(), step, 0, 2));
            Trainer.Step st = trainer.apply(trainer.gradients(micro), schedule.lr(step));
            lastLoss = st.loss();
            stepsHere++;
            double secs = (System.nanoTime() - t0) / 1e9, mean = (System.nanoTime() - started) / 1e9 / stepsHere;
            long epoch = (position - 1) / perEpoch;
            log.printf(Locale.ROOT, "step %d/%d  epoch %d  loss %.4f (ar %.4f, flow %.4f)  lr %.3g  |g| %.3g%s  %.0f tok/s  ETA %s%n", step,
                    total, epoch, st.loss(), st.reported().get("ar_loss"), st.reported().get("flow_loss"), st.lr(), st.gradNorm(),
                    st.clipped() ? " (clipped)" : "", tokens / secs, eta(mean * (total - step)));
            metrics.train(step, epoch, st, tokens / secs);
            boolean stop = s.stopAfter() > 0 && step - done >= s.stopAfter() && step < total;
            if (step % valEvery == 0 || step == total || stop) {
                Map<String, Double> v = validate(obj, lora, val, frames, c, promptCond, lyricCond);
                log.printf(Locale.ROOT, "validation at step %d: loss %.4f (ar %.4f, flow %.4f)  ar_top1 %.3f  ar_eos_ok %.3f%n", step,
                        v.get("val/loss"), v.get("val/ar_loss"), v.get("val/flow_loss"), v.get("val/ar_top1"), v.get("val/ar_eos_ok"));
                metrics.val(step, v);
                best.add(new Best(step, v.get("val/loss")));
                best.sort(Comparator.comparingDouble(Best::valLoss).thenComparingInt(Best::step));
                while (best.size() > Math.max(s.bestK(), 0)) best.remove(best.size() - 1);
                ObjectNode state = JSON.createObjectNode().put("step", step).put("adam_steps", trainer.optimizer().steps())
                        .put("epoch", epoch).put("micro_batches", position).put("total_steps", total);
                state.set("identity", identity);
                state.set("hashes", hashes);
                state.set("lora", lc.toJson());
                ArrayNode bt = state.putArray("best");
                for (Best x : best) bt.addObject().put("step", x.step()).put("val_loss", x.valLoss());
                Path dir = checkpoints.resolve("step-" + step);
                writeCheckpoint(dir, trainer, lora, lc, baseSha, codebookSha, vocabSha, state, true);
                writeCheckpoint(s.out().resolve("last"), trainer, lora, lc, baseSha, codebookSha, vocabSha, state, true);
                for (int i = 0; i < best.size(); i++) {
                    if (best.get(i).step() == step) {
                        for (int j = best.size() - 1; j > i; j--) rename(s.out().resolve("best-" + j), s.out().resolve("best-" + (j + 1)));
                        writeCheckpoint(s.out().resolve("best-" + (i + 1)), trainer, lora, lc, baseSha, codebookSha, vocabSha, state, false);
                    }
                }
                for (int j = best.size() + 1; Files.exists(s.out().resolve("best-" + j)); j++) AtomicFiles.deleteTree(s.out().resolve("best-" + j));
                pruneCheckpoints(checkpoints, s.keepLast());
                LossPlot.write(s.out().resolve("loss.png"), metrics.trainCurve(), metrics.valCurve());
            }
            if (stop) {
                log.printf(Locale.ROOT, "train: stopped after %d steps (--stop-after); continue with --resume-from %s%n", step - done,
                        s.out().resolve("last"));
                return new Summary(step, lastLoss, best.isEmpty() ? Double.NaN : best.get(0).valLoss(), s.out().resolve("last"));
            }
        }
        ObjectNode fin = JSON.createObjectNode().put("step", Math.max(done, total));
        writeCheckpoint(s.out().resolve("adapter"), trainer, lora, lc, baseSha, codebookSha, vocabSha, fin, false);
        double bestLoss = best.isEmpty() ? Double.NaN : best.get(0).valLoss();
        log.printf(Locale.ROOT, "train: %d steps; adapter in %s%s; metrics.jsonl and loss.png in %s%n", total, s.out().resolve("adapter"),
                best.isEmpty() ? "" : String.format(Locale.ROOT, " (best val/loss %.4f at step %d in best-1/)", bestLoss, best.get(0).step()),
                s.out());
        return new Summary(total, lastLoss, bestLoss, s.out().resolve("adapter"));
    }

    /** What differs between two adapter configurations in what a resume depends on. */
    static List<String> loraDifferences(LoraConfig was, LoraConfig now) {
        List<String> d = new ArrayList<>();
        if (was.r() != now.r()) d.add("rank " + was.r() + " vs " + now.r());
        if (was.loraAlpha() != now.loraAlpha()) d.add("alpha " + was.loraAlpha() + " vs " + now.loraAlpha());
        if (was.loraDropout() != now.loraDropout()) d.add("dropout " + was.loraDropout() + " vs " + now.loraDropout());
        if (was.useDora() != now.useDora()) d.add("dora " + was.useDora() + " vs " + now.useDora());
        if (was.useRslora() != now.useRslora()) d.add("rslora " + was.useRslora() + " vs " + now.useRslora());
        if (!String.valueOf(was.targetModules()).equals(String.valueOf(now.targetModules()))
                && !(was.targetModules().names() != null && now.targetModules().names() != null
                && new HashSet<>(was.targetModules().names()).equals(new HashSet<>(now.targetModules().names())))) {
            d.add("targets " + was.targetModules() + " vs " + now.targetModules());
        }
        return d;
    }

    private int totalSteps(int songs) {
        if (s.maxSteps() > 0) return s.maxSteps();
        int perEpoch = Math.max(1, songs / s.batchSize());
        return Math.max(1, (int) Math.ceil((double) s.epochs() * perEpoch / s.accumulate()));
    }

    /** The data order of an epoch: a seeded shuffle of the song indices. */
    int[] order(int n, long epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        SplittableRandom r = new SplittableRandom(mix(s.seed(), epoch, 0, 3));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** A seed from a run seed and counters (SplittableRandom's mixing, one round per value). */
    static long mix(long seed, long a, long b, long purpose) {
        long h = seed;
        for (long x : new long[] {a, b, purpose}) h = new SplittableRandom(h ^ (x * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L)).nextLong();
        return h;
    }

    /** One batch: crops of at most {@code frames} on block boundaries, EOS/zero padding, condition dropout when training. */
    private SongBloomObjective.Batch batch(List<Prepared> rows, int frames, SongBloomConfig c, PromptConditioner pc, LyricConditioner lcnd,
                                           SplittableRandom rng, boolean training) {
        int b = rows.size(), block = c.blockSize(), lat = c.latentDim();
        long[][] sketch = new long[b][frames];
        long[] len = new long[b];
        boolean[] ends = new boolean[b];
        INDArray latents = Nd4j.zeros(DataType.FLOAT, b, frames, lat);
        INDArray prompt = Nd4j.zeros(DataType.FLOAT, b, c.promptMaxLen(), c.dim());
        List<TokenizedLyrics> lyrics = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            Prepared p = rows.get(i);
            int n = p.song().frames();
            int l = Math.min(n, frames);
            int start = 0;
            if (training && s.segment() == FineTuneSettings.Segment.RANDOM && n > l) start = rng.nextInt((n - l) / block + 1) * block;
            len[i] = l;
            ends[i] = p.song().endsAtSongEnd() && start + l == n;
            Arrays.fill(sketch[i], c.numPitch());
            System.arraycopy(p.song().sketch(), start, sketch[i], 0, l);
            latents.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, l), NDArrayIndex.all())
                    .assign(p.song().latents().get(NDArrayIndex.interval(start, start + l), NDArrayIndex.all()));
            boolean drop = training && rng.nextDouble() < s.conditionDropout();
            if (!drop) prompt.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()).assign(p.prompt());
            lyrics.add(drop ? lcnd.tokenizer().nullLyrics() : p.lyric());
        }
        return new SongBloomObjective.Batch(prompt, lyrics, null, sketch, len, ends, latents);
    }

    private List<Prepared> prepare(List<TrainingJsonl.Item> items, String codebookSha, PromptConditioner pc, LyricConditioner lcnd,
                                   LyricVocabulary vocab, SongBloomConfig c) throws IOException {
        List<Prepared> out = new ArrayList<>();
        for (TrainingJsonl.Item it : items) {
            SongCache.Song song = SongCache.load(s.cache(), it.idx(), codebookSha, null);
            for (int j = 0; j < song.sketch().length; j++) {
                long id = song.sketch()[j];
                if (id < 0 || id >= c.numPitch()) {
                    throw new IllegalArgumentException("song '" + it.idx() + "' in " + s.cache() + ": sketch id " + id + " at frame " + j
                            + " is not one of the model's " + c.numPitch() + " codes (" + c.numPitch() + " is EOS, " + (c.numPitch() + 1)
                            + " the ignore id); re-run bloom4j cache with a codebook of at most " + c.numPitch() + " codes");
                }
            }
            LyricFrontEnd.Prepared l = LyricFrontEnd.prepare(it.lyrics(), it.lyricsPhonemes(), vocab, c.lyricsMaxLen());
            if (l.lossy()) log.println("lyrics of '" + it.idx() + "': " + l.loss());
            INDArray prompt = song.promptLatents().size(0) == 0 ? Nd4j.zeros(DataType.FLOAT, c.promptMaxLen(), c.dim())
                    : pc.condition(song.promptLatents());
            out.add(new Prepared(it.idx(), song, lcnd.tokenizer().tokenize(l.phonemes()), prompt));
        }
        return out;
    }

    /**
     * Deterministic validation (its own fixed seed; no dropout of any kind): token-weighted AR cross-entropy, flow MSE, their sum as
     * trained, top-1 accuracy on the sketch ids and the share of songs whose true end gets EOS as the top prediction.
     */
    private Map<String, Double> validate(SongBloomObjective obj, LoraAdapters lora, List<Prepared> val, int frames, SongBloomConfig c,
                                         PromptConditioner pc, LyricConditioner lcnd) {
        int b = s.batchSize(), block = c.blockSize(), classes = c.sketchVocabulary().classes(), t1 = frames + 1;
        double ce = 0, se = 0;
        long tokens = 0, elements = 0, correct = 0, ids = 0, eosOk = 0, eosRows = 0;
        for (int from = 0, batchNo = 0; from < val.size(); from += b, batchNo++) {
            List<Prepared> rows = new ArrayList<>(val.subList(from, Math.min(val.size(), from + b)));
            int real = rows.size();
            while (rows.size() < b) rows.add(rows.get(rows.size() - 1));
            SplittableRandom rng = new SplittableRandom(mix(VAL_SEED, batchNo, 0, 4));
            SongBloomObjective.Batch batch = batch(rows, frames, c, pc, lcnd, rng, false);
            SongBloomObjective.Draws d = SongBloomObjective.Draws.sample(rng, batch.validBlocks(block), block, c.latentDim(), false);
            Map<String, INDArray> feed = new java.util.HashMap<>(obj.feed(batch, d, 0));
            feed.putAll(lora.noDropout(obj.rows()));
            String lg = obj.logits().name(), pr = obj.prediction().name();
            Map<String, INDArray> out = obj.output(feed, lg, pr);
            float[][] logits = out.get(lg).castTo(DataType.FLOAT).toFloatMatrix();
            long[] y = obj.targets(batch);
            for (int i = 0; i < real; i++) {
                for (int j = 0; j < t1; j++) {
                    long target = y[i * t1 + j];
                    if (target == obj.ignoreId()) continue;
                    float[] z = logits[i * t1 + j];
                    double max = Double.NEGATIVE_INFINITY;
                    int arg = 0;
                    for (int v = 0; v < classes; v++) if (z[v] > max) { max = z[v]; arg = v; }
                    double sum = 0;
                    for (int v = 0; v < classes; v++) sum += Math.exp(z[v] - max);
                    ce += Math.log(sum) + max - z[(int) target];
                    tokens++;
                    if (target < c.numPitch()) {
                        ids++;
                        if (arg == target) correct++;
                    } else {
                        eosRows++;
                        if (arg == target) eosOk++;
                    }
                }
            }
            SongBloomObjective.FlowInputs in = obj.flowInputs(batch, d);
            float[] p = out.get(pr).castTo(DataType.FLOAT).reshape(-1).toFloatVector();
            int blockLen = block * c.latentDim(), j = 0;
            for (int i = 0; i < b; i++) {
                int n = (int) (batch.xLen()[i] / block);
                for (int k = 0; k < n; k++, j++) {
                    if (i >= real) continue;
                    for (int e = 0; e < blockLen; e++) {
                        double diff = p[j * blockLen + e] - in.target()[j * blockLen + e];
                        se += diff * diff;
                    }
                    elements += blockLen;
                }
            }
        }
        Map<String, Double> m = new LinkedHashMap<>();
        double ar = ce / Math.max(1, tokens), flow = se / Math.max(1, elements);
        m.put("val/loss", ar + SongBloomObjective.FLOW_WEIGHT * flow);
        m.put("val/ar_loss", ar);
        m.put("val/flow_loss", flow);
        m.put("val/ar_top1", ids == 0 ? Double.NaN : correct / (double) ids);
        m.put("val/ar_eos_ok", eosRows == 0 ? Double.NaN : eosOk / (double) eosRows);
        return m;
    }

    /** A published folder: the PEFT adapter, the trained tensors, and (for resume) the AdamW moments and the run state. */
    private void writeCheckpoint(Path dir, Trainer trainer, LoraAdapters lora, LoraConfig lc, String baseSha, String codebookSha,
                                 String vocabSha, ObjectNode state, boolean withOptimizer) throws IOException {
        Path staging = AtomicFiles.stagingDirForReplacing(dir);
        Map<String, INDArray> adapter = new LinkedHashMap<>();
        lora.tensors().forEach((k, v) -> adapter.put(k, v.dup()));
        new PeftAdapter(lc, adapter).write(staging);
        Map<String, INDArray> extra = new LinkedHashMap<>();
        Set<String> adapterNames = new HashSet<>();
        for (LoraLinear l : lora.layers().values()) {
            adapterNames.add(l.loraA().name());
            adapterNames.add(l.loraB().name());
            if (l.magnitude() != null) adapterNames.add(l.magnitude().name());
        }
        trainer.parameters().forEach((k, v) -> {
            if (!adapterNames.contains(k)) extra.put(k, v.dup());
        });
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "bloom4j-songbloom-trainable-extra/1");
        meta.put("base_sha256", baseSha);
        meta.put("codebook_sha256", codebookSha);
        meta.put("lyric_vocab_sha256", vocabSha);
        SafeTensorsWriter.write(staging.resolve(EXTRA_FILE), SafeTensorsWriter.arrays(extra), meta);
        if (withOptimizer) {
            Map<String, INDArray> moments = new LinkedHashMap<>();
            trainer.optimizer().state().forEach((k, v) -> moments.put(k, v.dup()));
            SafeTensorsWriter.write(staging.resolve(OPTIMIZER_FILE), SafeTensorsWriter.arrays(moments), Map.of());
        }
        AtomicFiles.writeString(staging.resolve(STATE_FILE), JSON.writeValueAsString(state));
        AtomicFiles.replaceDir(staging, dir);
    }

    private static void rename(Path from, Path to) throws IOException {
        if (!Files.exists(from)) return;
        if (Files.exists(to)) AtomicFiles.deleteTree(to);
        Files.move(from, to);
    }

    private static void pruneCheckpoints(Path dir, int keep) throws IOException {
        List<Path> steps = new ArrayList<>();
        try (var l = Files.list(dir)) {
            l.filter(p -> p.getFileName().toString().matches("step-\\d+")).forEach(steps::add);
        }
        steps.sort(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))));
        for (int i = 0; i < steps.size() - keep; i++) AtomicFiles.deleteTree(steps.get(i));
    }

    private static Set<String> ids(Path jsonl) throws IOException {
        Set<String> out = new HashSet<>();
        for (String l : Files.readAllLines(jsonl, StandardCharsets.UTF_8)) {
            if (!l.isBlank()) out.add(LINE.readTree(l).path("idx").asText());
        }
        return out;
    }

    /** A song's cache meta (where the codebook and the frame rate of the cache are read). */
    private static JsonNode cacheMeta(Path cache, String idx) throws IOException {
        Path meta = cache.resolve(idx + ".meta.json");
        if (!Files.isRegularFile(meta)) {
            throw new IllegalArgumentException("song '" + idx + "' is not in the cache " + cache + ": run bloom4j cache --data on the training JSONL first");
        }
        return JSON.readTree(meta.toFile());
    }

    static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }

    record Best(int step, double valLoss) { }

    /**
     * What a resume starts from: a bloom4j checkpoint folder ({@code checkpoints/step-N/} or {@code last/}) or the fork's Lightning
     * {@code .ckpt} (adapter tensors, AdamW moments and step, {@code global_step}; its state dict must hold the adapters).
     */
    record Resume(int step, long epoch, Map<String, INDArray> adapter, Map<String, INDArray> extra, Map<String, INDArray> moments,
                  int adamSteps, LoraConfig lora, List<Best> best, JsonNode state) {
        static Resume read(Path from) throws IOException {
            if (Files.isDirectory(from)) {
                Path st = from.resolve(STATE_FILE), opt = from.resolve(OPTIMIZER_FILE);
                if (!Files.isRegularFile(st) || !Files.isRegularFile(opt)) {
                    throw new IllegalArgumentException("--resume-from " + from + " is not a checkpoint folder (it needs " + STATE_FILE + " and "
                            + OPTIMIZER_FILE + "; use RUN/last or RUN/checkpoints/step-N)");
                }
                JsonNode state = JSON.readTree(st.toFile());
                PeftAdapter a = PeftAdapter.read(from);
                Map<String, INDArray> extra = new LinkedHashMap<>(), moments = new LinkedHashMap<>();
                try (TensorSource e = bloom4j.tensor.io.Checkpoints.open(from.resolve(EXTRA_FILE))) {
                    for (String k : e.names()) extra.put(k, e.load(k, DataType.FLOAT));
                }
                try (TensorSource o = bloom4j.tensor.io.Checkpoints.open(opt)) {
                    for (String k : o.names()) moments.put(k, o.load(k, DataType.FLOAT));
                }
                List<Best> best = new ArrayList<>();
                for (JsonNode b : state.path("best")) best.add(new Best(b.path("step").asInt(), b.path("val_loss").asDouble()));
                return new Resume(state.path("step").asInt(), state.path("epoch").asLong(), a.tensors(), extra, moments,
                        state.path("adam_steps").asInt(), a.config(), best, state);
            }
            if (!Files.isRegularFile(from)) throw new IllegalArgumentException("--resume-from " + from + ": no such checkpoint folder or file");
            LightningResume r = LightningResume.read(from, SongBloomAdapterNames::graphName);
            Map<String, INDArray> adapter = new LinkedHashMap<>(), extra = new LinkedHashMap<>();
            r.tensors().forEach((k, v) -> {
                if (k.contains(".lora_")) adapter.put(k.substring("model.".length()), v);
                else extra.put(k, v);
            });
            if (adapter.isEmpty()) {
                throw new TrainingException(from + ": the Lightning checkpoint holds no PEFT adapter tensors (keys with .lora_A/.lora_B);"
                        + " bloom4j resumes fork runs trained with PEFT adapters");
            }
            return new Resume(Math.toIntExact(r.globalStep()), r.epoch(), adapter, extra, r.adamState(), r.adamSteps(from), null, List.of(), null);
        }
    }

    /** {@code metrics.jsonl}: one line per optimizer step and per validation, appended (a resumed run drops lines past its step). */
    static final class Metrics {
        private final Path file;
        private final List<double[]> train = new ArrayList<>(), val = new ArrayList<>();

        private Metrics(Path file) { this.file = file; }

        static Metrics open(Path dir, int resumedAt) throws IOException {
            Metrics m = new Metrics(dir.resolve("metrics.jsonl"));
            List<String> keep = new ArrayList<>();
            if (Files.isRegularFile(m.file)) {
                for (String l : Files.readAllLines(m.file, StandardCharsets.UTF_8)) {
                    if (l.isBlank()) continue;
                    JsonNode n;
                    try {
                        n = LINE.readTree(l);
                    } catch (IOException e) {
                        continue;   // a line cut by a kill
                    }
                    if (n.path("step").asInt() > resumedAt) continue;
                    keep.add(l);
                    if (n.has("loss")) m.train.add(new double[] {n.path("step").asDouble(), n.path("loss").asDouble()});
                    if (n.has("val/loss")) m.val.add(new double[] {n.path("step").asDouble(), n.path("val/loss").asDouble()});
                }
            }
            AtomicFiles.writeString(m.file, keep.isEmpty() ? "" : String.join("\n", keep) + "\n");
            return m;
        }

        void train(int step, long epoch, Trainer.Step s, double tokensPerSecond) throws IOException {
            ObjectNode n = LINE.createObjectNode().put("step", step).put("epoch", epoch).put("loss", s.loss())
                    .put("ar_loss", s.reported().get("ar_loss")).put("flow_loss", s.reported().get("flow_loss")).put("lr", s.lr())
                    .put("grad_norm", s.gradNorm()).put("clip_coef", s.clipCoef()).put("tokens_per_s", tokensPerSecond);
            append(n);
            train.add(new double[] {step, s.loss()});
        }

        void val(int step, Map<String, Double> v) throws IOException {
            ObjectNode n = LINE.createObjectNode().put("step", step);
            v.forEach(n::put);
            append(n);
            val.add(new double[] {step, v.get("val/loss")});
        }

        private void append(ObjectNode n) throws IOException {
            Files.writeString(file, LINE.writeValueAsString(n) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        }

        List<double[]> trainCurve() { return train; }

        List<double[]> valCurve() { return val; }
    }
}
