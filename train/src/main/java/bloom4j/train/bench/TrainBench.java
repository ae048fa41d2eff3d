package bloom4j.train.bench;

import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.nn.ComputeThreads;
import bloom4j.nn.Init;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.lora.LoraAdapters;
import bloom4j.nn.lora.LoraConfig;
import bloom4j.train.LoraPresets;
import bloom4j.train.Trainer;
import bloom4j.train.WarmupCosine;
import bloom4j.train.songbloom.ArFineTune;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training-step time of SongBloom's AR on the CPU, FP32, random weights, synthetic sketches: LoRA (the {@code songbloom-ar} preset
 * targets, q_proj/v_proj), DoRA (same targets and rank) and full fine-tuning (every weight), each a full {@link Trainer#step}
 * (forward, backward, global-norm clip, AdamW). {@code train/src/bench/python/bench_train.py} runs the same shapes in plain torch.
 *
 * <p>The bound: FLOPs per step (forward 2·weights·rows for every product plus 4·B·L²·D per layer for attention; backward ≈ 1× the
 * forward when only adapters train, since weight gradients of frozen products are not needed, 2× for full fine-tuning) ÷ the measured
 * SGEMM rate (1024³, best of 5) at the same thread count: the time the step would take if all of it ran at GEMM peak.
 */
public final class TrainBench {
    private TrainBench() {}

    public record Options(int dim, int heads, int layers, int pitch, int blockSize, int latent, int batch, int prefix, int sketch,
                          int rank, int steps, int warmup, int threads, List<String> modes) {
        public SongBloomConfig config() {
            return new SongBloomConfig(dim, heads, layers, 4, 20000, 1e-6, pitch, blockSize, latent, 1, Math.max(1, prefix), 1, 50);
        }

        public int length() { return prefix + sketch + sketch / blockSize + 1; }
    }

    public record Result(String mode, long trainable, double msPerStep, double gflopPerStep) {}

    public static List<Result> run(Options o, PrintStream log) {
        ComputeThreads.forInference(o.threads());
        SongBloomConfig c = o.config();
        log.printf(Locale.ROOT, "bench-train: SongBloom AR dim %d, %d heads, %d layers, ffn %d, %d classes; batch %d x %d positions"
                        + " (prefix %d, %d sketch tokens, blocks of %d); rank %d; FP32, %d threads (%s)%n", o.dim(), o.heads(), o.layers(),
                c.ffnDim(), c.sketchVocabulary().classes(), o.batch(), o.length(), o.prefix(), o.sketch(), o.blockSize(), o.rank(),
                o.threads(), ComputeThreads.describe());
        double gemm = sgemmGflops();
        log.printf(Locale.ROOT, "sgemm 1024^3: %.1f GFLOP/s%n", gemm);
        Init normal = Init.normal(0.02, 1);
        Init init = Init.named("normal(0.02)", (k, s, t) -> k.endsWith("norm.weight") ? Nd4j.ones(t, s) : normal.create(k, s, t));
        long[] lens = new long[o.batch()];
        Arrays.fill(lens, o.sketch());
        ArFineTune.Batch data = ArFineTune.synthetic(c, o.prefix(), o.sketch(), lens, new SplittableRandom(1));
        List<Result> out = new ArrayList<>();
        for (String mode : o.modes()) {
            LoadOptions lo = LoadOptions.inference().initMissing(init);
            LoraAdapters lora = null;
            if (!mode.equals("full")) {
                LoraConfig base = LoraPresets.SONGBLOOM_AR.config();
                LoraConfig lc = LoraConfig.lora(o.rank(), 2.0 * o.rank(), base.targetModules()).withDora(mode.equals("dora"));
                lora = LoraAdapters.fresh(lc, 7).training(true);
                lo = lo.adapters(lora, true);
            } else {
                lo = lo.allTrainable();
            }
            ArFineTune ft = ArFineTune.build(c, ParamSource.empty(), lo, o.batch(), o.prefix(), o.sketch());
            Trainer tr = new Trainer(ft.graph().params(), ft.crossEntropy().loss(),
                    Trainer.Options.of(WarmupCosine.constant(1e-4)).clipNorm(1.0).guard(false), lora, null);
            long trainable = tr.parameters().values().stream().mapToLong(INDArray::length).sum();
            List<Trainer.MicroBatch> step = ft.step(List.of(data));
            for (int i = 0; i < o.warmup(); i++) tr.step(step);
            double[] t = new double[o.steps()];
            for (int i = 0; i < o.steps(); i++) {
                long t0 = System.nanoTime();
                tr.step(step);
                t[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(t);
            double median = t[t.length / 2];
            double gflop = flops(o, mode.equals("full")) / 1e9;
            Result r = new Result(mode, trainable, median, gflop);
            log.printf(Locale.ROOT, "%-5s trainable %,12d  step %8.1f ms (median of %d, best %.1f)  %.1f GFLOP/step = %.1f GFLOP/s;"
                            + " GEMM-peak bound %.1f ms (%.0f%% of peak)%n", mode, trainable, median, o.steps(), t[0], gflop,
                    gflop / median * 1e3, gflop / gemm * 1e3, 100 * (gflop / gemm * 1e3) / median);
            out.add(r);
        }
        Map<String, Double> ms = new LinkedHashMap<>();
        out.forEach(r -> ms.put(r.mode(), r.msPerStep()));
        StringBuilder sb = new StringBuilder("bench train:");
        ms.forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s_ms=%.1f", k, v)));
        sb.append(String.format(Locale.ROOT, " sgemm_gflops=%.1f", gemm));
        log.println(sb);
        return out;
    }

    /**
     * The whole fine-tuning objective ({@link bloom4j.train.songbloom.SongBloomObjective}: AR + lyric table in the graph + the DiT's
     * flow term) at a given size, LoRA on q/v (+ the trained lyric and sketch tables, as {@code bloom4j train} does), one song of
     * {@code cropSeconds} at 25 frames/s with full conditions: the time per optimizer step and the peak RSS of the process
     * (VmHWM), the two numbers that decide whether a crop length fits a machine.
     */
    public record ObjectiveOptions(int dim, int heads, int layers, int diffLayers, int pitch, int blockSize, int latent, int promptLen,
                                   int lyricsLen, double cropSeconds, int rank, int steps, int warmup, int threads) { }

    public static double[] runObjective(ObjectiveOptions o, PrintStream log) {
        ComputeThreads.forInference(o.threads());
        SongBloomConfig c = new SongBloomConfig(o.dim(), o.heads(), o.layers(), 4, 20000, 1e-6, o.pitch(), o.blockSize(), o.latent(),
                o.diffLayers(), o.promptLen(), o.lyricsLen(), 50);
        bloom4j.models.songbloom.dit.DitConfig dc = new bloom4j.models.songbloom.dit.DitConfig(o.dim(), o.heads(), o.diffLayers(), o.latent(),
                o.blockSize(), 4, 256, bloom4j.models.songbloom.dit.DitConfig.ROTARY_BASE, bloom4j.models.songbloom.dit.DitConfig.LAYER_NORM_EPS);
        int frames = (int) Math.floor(o.cropSeconds() * 25 / o.blockSize()) * o.blockSize();
        double gemm = sgemmGflops();
        Init normal = Init.normal(0.02, 1);
        Init init = Init.named("normal(0.02)", (k, sh, t) -> k.endsWith("norm.weight") || k.endsWith(".gamma") ? Nd4j.ones(t, sh)
                : normal.create(k, sh, t));
        LoraConfig lc = LoraConfig.lora(o.rank(), 2.0 * o.rank(), LoraPresets.SONGBLOOM_AR.config().targetModules());
        LoraAdapters lora = LoraAdapters.fresh(lc, 7).under("model").training(true);
        String table = bloom4j.models.songbloom.LyricConditioner.PREFIX + "output_proj.weight";
        java.util.function.Predicate<String> trained = k -> k.equals(table) || k.equals("model.skeleton_emb.weight")
                || k.startsWith("model.skeleton_classifier.");
        bloom4j.models.songbloom.LyricVocabulary vocab = bloom4j.models.songbloom.LyricVocabulary.released();
        var obj = bloom4j.train.songbloom.SongBloomObjective.build(c, dc, ParamSource.empty(),
                LoadOptions.inference().initMissing(init).trainable(trained).adapters(lora, true), 1, frames,
                bloom4j.train.songbloom.SongBloomObjective.Conditions.IN_GRAPH, vocab,
                bloom4j.train.songbloom.SongBloomObjective.Layout.PER_LAYER);
        Trainer tr = new Trainer(obj, Trainer.Options.of(WarmupCosine.constant(1e-4)).clipNorm(1.0).guard(false)
                .average(true), lora, null);
        long trainable = tr.parameters().values().stream().mapToLong(INDArray::length).sum();
        SplittableRandom rng = new SplittableRandom(3);
        long[][] sketch = new long[1][frames];
        for (int j = 0; j < frames; j++) sketch[0][j] = rng.nextInt(o.pitch());
        INDArray latents = Nd4j.randn(DataType.FLOAT, 1, frames, o.latent());
        INDArray prompt = Nd4j.randn(DataType.FLOAT, 1, o.promptLen(), o.dim()).muli(0.1);
        StringBuilder lyric = new StringBuilder();
        for (int i = 0; i < o.lyricsLen() - 2; i++) lyric.append(i % 40 == 39 ? ". " : "a ");
        var tok = obj.lyricGraph().tokenizer().tokenize("[verse] " + lyric.toString().strip());
        var batch = new bloom4j.train.songbloom.SongBloomObjective.Batch(prompt, List.of(tok), null, sketch, new long[] {frames},
                new boolean[] {true}, latents);
        var draws = bloom4j.train.songbloom.SongBloomObjective.Draws.sample(rng, frames / o.blockSize(), o.blockSize(), o.latent(), true);
        List<Trainer.MicroBatch> step = List.of(new Trainer.MicroBatch(obj.feed(batch, draws, 0.05), obj.rows()));
        log.printf(Locale.ROOT, "bench-train objective: AR %d x %d (%d heads) + DiT %d layers, %d codes; one song of %.0f s = %d frames,"
                        + " %d LLaMA positions (prompt %d + lyrics %d); LoRA r%d on q/v + lyric/sketch tables = %,d trainable; %d threads (%s)%n",
                o.layers(), o.dim(), o.heads(), o.diffLayers(), o.pitch(), o.cropSeconds(), frames, obj.length(), o.promptLen(),
                o.lyricsLen(), o.rank(), trainable, o.threads(), ComputeThreads.describe());
        log.printf(Locale.ROOT, "built: RSS %.2f GB (peak %.2f)%n", rssKb("VmRSS") / 1048576.0, peakRssKb() / 1048576.0);
        for (int i = 0; i < o.warmup(); i++) {
            tr.step(step);
            log.printf(Locale.ROOT, "warm-up step %d: RSS %.2f GB (peak %.2f)%n", i + 1, rssKb("VmRSS") / 1048576.0, peakRssKb() / 1048576.0);
        }
        double[] t = new double[o.steps()];
        for (int i = 0; i < o.steps(); i++) {
            long t0 = System.nanoTime();
            tr.step(step);
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        double median = t[t.length / 2];
        long hwm = peakRssKb();
        double d = o.dim(), f = 4.0 * o.dim(), rows = obj.length(), nv = frames / (double) o.blockSize(), dl = dc.sequenceLength();
        double fwd = o.layers() * (rows * 2 * (4 * d * d + 3 * d * f) + 4.0 * rows * rows * d)
                + o.diffLayers() * (nv * dl * 2 * (4 * d * d + 3 * d * f) + nv * 4.0 * dl * dl * d);
        double gflop = fwd * 2 / 1e9;   // backward ≈ forward when only adapters and tables train (no frozen weight gradients)
        log.printf(Locale.ROOT, "step %.2f s (median of %d, best %.2f); %.0f GFLOP/step, GEMM-peak bound %.2f s (%.0f%% of peak); peak RSS %.2f GB%n",
                median, o.steps(), t[0], gflop, gflop / gemm, 100 * gflop / gemm / median, hwm / 1048576.0);
        log.printf(Locale.ROOT, "bench train objective: step_s=%.3f peak_rss_gb=%.2f sgemm_gflops=%.1f%n", median, hwm / 1048576.0, gemm);
        return new double[] {median, hwm / 1048576.0};
    }

    /** The process's peak resident set (VmHWM, kB) from /proc/self/status; -1 where there is none. */
    static long peakRssKb() { return rssKb("VmHWM"); }

    /** A /proc/self/status memory line (kB), e.g. VmRSS (now) or VmHWM (peak); -1 where there is none. */
    static long rssKb(String field) {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (l.startsWith(field + ":")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** FLOPs of one step: products (2·in·out per row), attention (4·L²·D per sequence and layer), backward as in the class comment. */
    static double flops(Options o, boolean full) {
        SongBloomConfig c = o.config();
        double d = c.dim(), f = c.ffnDim(), rows = (double) o.batch() * o.length(), n = o.sketch() / (double) o.blockSize();
        double lm = o.layers() * (rows * 2 * (4 * d * d + 3 * d * f) + o.batch() * 4.0 * o.length() * o.length() * d);
        double heads = o.batch() * (o.sketch() + 1.0) * 2 * (d * d + d * c.sketchVocabulary().classes())
                + o.batch() * n * 2 * (c.blockConvIn() * d + d * d);
        double fwd = lm + heads + (full ? o.batch() * o.sketch() * 2.0 * c.sketchVocabulary().embeddingRows() * d : 0);
        return fwd * (full ? 3 : 2);
    }

    /** Best of five 1024³ SGEMMs after a warm-up, GFLOP/s. */
    static double sgemmGflops() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 1024, 1024), b = Nd4j.rand(DataType.FLOAT, 1024, 1024);
        INDArray c = Nd4j.create(DataType.FLOAT, 1024, 1024);
        a.mmuli(b, c);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            a.mmuli(b, c);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return 2.0 * 1024 * 1024 * 1024 / best / 1e9;
    }
}
