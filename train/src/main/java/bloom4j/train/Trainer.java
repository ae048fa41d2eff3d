package bloom4j.train;

import bloom4j.nn.Params;
import bloom4j.nn.lora.LoraAdapters;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * The manual training loop over one SameDiff graph, model-agnostic: the graph's trainable variables (LoRA/DoRA adapters, or anything the
 * {@link bloom4j.nn.LoadOptions} trainability policy made a VARIABLE) are updated, constants never. ND4J M2.1 has neither gradient
 * accumulation nor clipping in {@code fit}, so each {@link #step}:
 * <ol>
 *   <li>computes loss and gradients of each micro-batch ({@code calculateGradientsAndOutputs}) and sums them — the loss weights the
 *       rows by the whole step's token count ({@link CrossEntropy}), so N micro-batches equal one batch of N;</li>
 *   <li>lets the {@link GradientGuard} refuse parameters without a usable gradient (first steps only);</li>
 *   <li>clips to a global norm ({@link GradClip}), refusing a non-finite norm with the offending parameters named;</li>
 *   <li>updates with {@link AdamW} at the {@link WarmupCosine} rate.</li>
 * </ol>
 * Dropout masks of LoRA/DoRA adapters are drawn per micro-batch from a seeded generator. The trainable set (names, shapes, counts, and
 * PEFT's summary line) is printed when the trainer is made.
 */
public final class Trainer {

    /**
     * @param schedule learning rate per update
     * @param adam     optimiser settings
     * @param clipNorm global gradient-norm limit; 0 disables clipping
     * @param seed     seed of the dropout masks
     * @param guard    whether to run the {@link GradientGuard}
     */
    public record Options(WarmupCosine schedule, AdamW.Settings adam, double clipNorm, long seed, boolean guard, boolean average,
                          Predicate<String> decay) {
        public Options {
            if (!(clipNorm >= 0)) throw new IllegalArgumentException("clipNorm must be >= 0, got " + clipNorm);
            if (decay == null) decay = AdamW.HF_DECAY;
        }

        public Options(WarmupCosine schedule, AdamW.Settings adam, double clipNorm, long seed, boolean guard) {
            this(schedule, adam, clipNorm, seed, guard, false, AdamW.HF_DECAY);
        }

        public static Options of(WarmupCosine schedule) { return new Options(schedule, AdamW.Settings.torchDefaults(), 1.0, 0, true); }

        public Options adam(AdamW.Settings a) { return new Options(schedule, a, clipNorm, seed, guard, average, decay); }

        public Options clipNorm(double c) { return new Options(schedule, adam, c, seed, guard, average, decay); }

        public Options seed(long s) { return new Options(schedule, adam, clipNorm, s, guard, average, decay); }

        public Options guard(boolean g) { return new Options(schedule, adam, clipNorm, seed, g, average, decay); }

        /**
         * Whether the step's loss and gradients are the mean over its micro-batches (each micro-batch being a mean of its own:
         * Lightning's {@code accumulate_grad_batches}, the loss divided by their number) rather than their sum (micro-batches
         * weighted by the whole step's token count, {@link CrossEntropy}).
         */
        public Options average(boolean a) { return new Options(schedule, adam, clipNorm, seed, guard, a, decay); }

        /** Which parameters get AdamW's decoupled weight decay. */
        public Options decay(Predicate<String> d) { return new Options(schedule, adam, clipNorm, seed, guard, average, d); }
    }

    /** One micro-batch: placeholder values (inputs, labels) and the number of rows B·T the adapted layers see. */
    public record MicroBatch(Map<String, INDArray> feed, long rows) {}

    /**
     * What one optimisation step did; {@code gradNorm} is before clipping, {@code clipCoef} the factor the gradients were multiplied
     * by (torch's {@code min(1, max_norm / (norm + 1e-6))}), {@code reported} the step's values of the {@link #report reported} outputs.
     */
    public record Step(int number, double loss, double gradNorm, double clipCoef, double lr, boolean clipped, Map<String, Double> reported) {
        public Step(int number, double loss, double gradNorm, double lr, boolean clipped) {
            this(number, loss, gradNorm, 1.0, lr, clipped, Map.of());
        }

        @Override public String toString() {
            return String.format(Locale.ROOT, "step %d  loss %.5f  grad-norm %.4g%s  lr %.3g", number, loss, gradNorm,
                    clipped ? " (clipped)" : "", lr);
        }
    }

    private final Differentiable model;
    private final Map<String, INDArray> params = new LinkedHashMap<>();
    private final Options options;
    private final AdamW adamW;
    private final LoraAdapters adapters;
    private final GradientGuard guard;
    private SplittableRandom rng;
    private final PrintStream log;
    private final Map<String, INDArray> gradientMasks = new LinkedHashMap<>();
    private final List<String> reportedOutputs = new ArrayList<>();
    private int steps;
    private boolean logSteps = true;

    /**
     * @param params   the graph's parameters (its trainable variables are trained)
     * @param loss     the scalar to minimise
     * @param adapters the graph's adapters, for dropout masks and the guard's lora_A/lora_B pairing; null without adapters
     * @param log      where the trainable set and steps are printed; null for silence
     */
    public Trainer(Params params, SDVariable loss, Options options, LoraAdapters adapters, PrintStream log) {
        this(Differentiable.of(requireTrainable(params), loss), options, adapters, log);
    }

    private static Params requireTrainable(Params params) {
        if (params.trainable().isEmpty()) {
            throw new TrainingException("nothing to train: no parameter of " + params.source().description() + " is trainable (give the"
                    + " LoadOptions a trainability policy, or adapters with trainAdapters = true)");
        }
        return params;
    }

    /** Trains {@code model}'s parameters (one graph or several: see {@link Differentiable}). */
    public Trainer(Differentiable model, Options options, LoraAdapters adapters, PrintStream log) {
        this.model = model;
        this.options = options;
        this.adapters = adapters;
        this.log = log == null ? new PrintStream(OutputStream.nullOutputStream()) : log;
        this.params.putAll(model.parameters());
        if (this.params.isEmpty()) throw new TrainingException("nothing to train: no parameter of " + model.description() + " is trainable");
        this.adamW = new AdamW(options.adam(), options.decay());
        this.guard = !options.guard() ? null : adapters != null ? GradientGuard.forAdapters(adapters) : new GradientGuard(Map.of());
        this.rng = new SplittableRandom(options.seed());
        this.log.print("training " + this.params.size() + " tensors: " + model.trainableTable());
    }

    /** Whether each step is printed to the log (a caller that prints its own progress line turns it off). */
    public Trainer logSteps(boolean on) {
        logSteps = on;
        return this;
    }

    /** Also computes and reports these scalar outputs at each step (e.g. the terms of a composite loss). */
    public Trainer report(List<String> outputNames) {
        reportedOutputs.clear();
        reportedOutputs.addAll(outputNames);
        return this;
    }

    /**
     * Trains only some rows of a table: the gradient of {@code name} is multiplied by {@code mask} (0/1, broadcastable to the
     * parameter, e.g. {@code [rows, 1]}) before clipping, so rows with mask 0 never change (AdamW's decay is off for tables).
     */
    public Trainer maskGradient(String name, INDArray mask) {
        if (!params.containsKey(name)) throw new IllegalArgumentException("'" + name + "' is not a trained parameter");
        gradientMasks.put(name, mask);
        return this;
    }

    /**
     * Restarts the adapters' dropout generator from {@code seed}: a run that reseeds before every step from (run seed, step) draws
     * the same masks after a resume as without one.
     */
    public void reseedDropout(long seed) { rng = new SplittableRandom(seed); }

    /** Loss and gradients of the micro-batches (summed, or averaged under {@link Options#average}), without updating. */
    public Result gradients(List<MicroBatch> micro) {
        if (micro.isEmpty()) throw new IllegalArgumentException("a step needs at least one micro-batch");
        Map<String, INDArray> sum = new LinkedHashMap<>();
        Map<String, Double> reported = new LinkedHashMap<>();
        double lossSum = 0;
        for (MicroBatch mb : micro) {
            Map<String, INDArray> feed = new LinkedHashMap<>(mb.feed());
            if (adapters != null) feed.putAll(adapters.dropoutMasks(mb.rows(), rng));
            Differentiable.Evaluation ev = model.evaluate(feed, reportedOutputs);
            lossSum += ev.loss();
            ev.reported().forEach((k, v) -> reported.merge(k, v, Double::sum));
            for (String n : params.keySet()) {
                INDArray g = ev.gradients().get(n);
                if (g == null) continue;   // not connected: the guard names it
                INDArray acc = sum.get(n);
                if (acc == null) {
                    sum.put(n, model.ownsResults() ? g : g.dup());
                } else {
                    acc.addi(g);
                    if (model.ownsResults()) g.close();
                }
            }
        }
        if (options.average() && micro.size() > 1) {
            double k = micro.size();
            lossSum /= k;
            reported.replaceAll((n, v) -> v / k);
            for (INDArray g : sum.values()) g.divi(k);
        }
        return new Result(lossSum, sum, reported);
    }

    /** Loss, gradients and reported outputs of one step (before clipping). */
    public record Result(double loss, Map<String, INDArray> gradients, Map<String, Double> reported) {
        public Result(double loss, Map<String, INDArray> gradients) { this(loss, gradients, Map.of()); }
    }

    /** One optimisation step over the micro-batches at the schedule's rate. */
    public Step step(List<MicroBatch> micro) { return apply(gradients(micro), options.schedule().lr(steps + 1)); }

    /**
     * Finishes a step from its {@link #gradients}: the guard (first steps), the gradient masks, global-norm clipping, and AdamW at
     * rate {@code lr}. The gradients in {@code r} are clipped in place.
     */
    public Step apply(Result r, double lr) {
        int number = steps + 1;
        if (!Double.isFinite(r.loss())) throw new TrainingException("loss is " + r.loss() + " at step " + number);
        gradientMasks.forEach((n, m) -> {
            INDArray g = r.gradients().get(n);
            if (g != null) g.muli(m.castTo(g.dataType()));
        });
        if (guard != null && !guard.done()) guard.check(number, r.gradients(), params);
        for (String n : params.keySet()) {
            if (!r.gradients().containsKey(n)) {
                throw new TrainingException("no gradient for trainable '" + n + "' at step " + number + " (not connected to the loss)");
            }
        }
        double norm = GradClip.globalNorm(r.gradients());
        if (!Double.isFinite(norm)) {
            List<String> bad = new ArrayList<>();
            r.gradients().forEach((k, g) -> {
                if (!Double.isFinite(g.norm2Number().doubleValue())) bad.add(k);
            });
            throw new TrainingException("gradient norm is " + norm + " at step " + number + "; non-finite gradients: " + bad);
        }
        double coef = GradClip.clip(r.gradients(), options.clipNorm(), norm);
        adamW.step(params, r.gradients(), lr);
        steps = number;
        Step s = new Step(number, r.loss(), norm, coef, lr, options.clipNorm() > 0 && norm > options.clipNorm(), r.reported());
        if (logSteps) log.println(s);
        return s;
    }

    /** Restores the step count of a resumed run (the optimizer state is restored through {@link #optimizer()}); the guard checks again. */
    public void resumeAt(int stepsDone) {
        if (stepsDone < 0) throw new IllegalArgumentException("steps must be >= 0, got " + stepsDone);
        steps = stepsDone;
    }

    /** Steps done. */
    public int steps() { return steps; }

    public AdamW optimizer() { return adamW; }

    /** The trained arrays by name (live: the graph's own). */
    public Map<String, INDArray> parameters() { return java.util.Collections.unmodifiableMap(params); }
}
