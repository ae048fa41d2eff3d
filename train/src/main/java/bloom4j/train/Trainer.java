package bloom4j.train;

import bloom4j.nn.Params;
import bloom4j.nn.TrainableReport;
import bloom4j.nn.lora.LoraAdapters;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

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
    public record Options(WarmupCosine schedule, AdamW.Settings adam, double clipNorm, long seed, boolean guard) {
        public Options {
            if (!(clipNorm >= 0)) throw new IllegalArgumentException("clipNorm must be >= 0, got " + clipNorm);
        }

        public static Options of(WarmupCosine schedule) { return new Options(schedule, AdamW.Settings.torchDefaults(), 1.0, 0, true); }

        public Options adam(AdamW.Settings a) { return new Options(schedule, a, clipNorm, seed, guard); }

        public Options clipNorm(double c) { return new Options(schedule, adam, c, seed, guard); }

        public Options seed(long s) { return new Options(schedule, adam, clipNorm, s, guard); }

        public Options guard(boolean g) { return new Options(schedule, adam, clipNorm, seed, g); }
    }

    /** One micro-batch: placeholder values (inputs, labels) and the number of rows B·T the adapted layers see. */
    public record MicroBatch(Map<String, INDArray> feed, long rows) {}

    /** What one optimisation step did; {@code gradNorm} is before clipping. */
    public record Step(int number, double loss, double gradNorm, double lr, boolean clipped) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "step %d  loss %.5f  grad-norm %.4g%s  lr %.3g", number, loss, gradNorm,
                    clipped ? " (clipped)" : "", lr);
        }
    }

    private final SameDiff sd;
    private final SDVariable loss;
    private final Map<String, INDArray> params = new LinkedHashMap<>();
    private final Options options;
    private final AdamW adamW;
    private final LoraAdapters adapters;
    private final GradientGuard guard;
    private final SplittableRandom rng;
    private final PrintStream log;
    private int steps;

    /**
     * @param params   the graph's parameters (its trainable variables are trained)
     * @param loss     the scalar to minimise
     * @param adapters the graph's adapters, for dropout masks and the guard's lora_A/lora_B pairing; null without adapters
     * @param log      where the trainable set and steps are printed; null for silence
     */
    public Trainer(Params params, SDVariable loss, Options options, LoraAdapters adapters, PrintStream log) {
        this.sd = params.sd();
        this.loss = loss;
        this.options = options;
        this.adapters = adapters;
        this.log = log == null ? new PrintStream(OutputStream.nullOutputStream()) : log;
        for (SDVariable v : params.trainable()) this.params.put(v.name(), v.getArr());
        if (this.params.isEmpty()) {
            throw new TrainingException("nothing to train: no parameter of " + params.source().description() + " is trainable (give the"
                    + " LoadOptions a trainability policy, or adapters with trainAdapters = true)");
        }
        this.adamW = new AdamW(options.adam());
        this.guard = !options.guard() ? null : adapters != null ? GradientGuard.forAdapters(adapters) : new GradientGuard(Map.of());
        this.rng = new SplittableRandom(options.seed());
        sd.setLossVariables(loss.name());
        PrintStream out = System.out;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));   // M2.1 prints every differentiated op
            sd.createGradFunction();
        } finally {
            System.setOut(out);
        }
        this.log.print("training " + this.params.size() + " tensors: " + TrainableReport.of(params).table());
    }

    /** Loss and gradients summed over the micro-batches, without updating. */
    public Result gradients(List<MicroBatch> micro) {
        if (micro.isEmpty()) throw new IllegalArgumentException("a step needs at least one micro-batch");
        Map<String, INDArray> sum = new LinkedHashMap<>();
        double lossSum = 0;
        List<String> names = new ArrayList<>(params.keySet());
        for (MicroBatch mb : micro) {
            Map<String, INDArray> feed = new LinkedHashMap<>(mb.feed());
            if (adapters != null) feed.putAll(adapters.dropoutMasks(mb.rows(), rng));
            OutAndGrad og = sd.calculateGradientsAndOutputs(feed, List.of(loss.name()), names);
            lossSum += og.getOutputs().get(loss.name()).getDouble(0);
            for (String n : names) {
                INDArray g = og.getGradients().get(n);
                if (g == null) continue;   // not connected: the guard names it
                INDArray acc = sum.get(n);
                if (acc == null) sum.put(n, g.dup());
                else acc.addi(g);
            }
        }
        return new Result(lossSum, sum);
    }

    /** Summed loss and gradients of one step. */
    public record Result(double loss, Map<String, INDArray> gradients) {}

    /** One optimisation step over the micro-batches (their loss weights must count the rows of all of them). */
    public Step step(List<MicroBatch> micro) {
        int number = steps + 1;
        Result r = gradients(micro);
        if (!Double.isFinite(r.loss())) throw new TrainingException("loss is " + r.loss() + " at step " + number);
        if (guard != null && !guard.done()) guard.check(number, r.gradients(), params);
        for (String n : params.keySet()) {
            if (!r.gradients().containsKey(n)) {
                throw new TrainingException("no gradient for trainable '" + n + "' at step " + number + " (not connected to the loss)");
            }
        }
        double norm = GradClip.clip(r.gradients(), options.clipNorm());
        if (!Double.isFinite(norm)) {
            List<String> bad = new ArrayList<>();
            r.gradients().forEach((k, g) -> {
                if (!Double.isFinite(g.norm2Number().doubleValue())) bad.add(k);
            });
            throw new TrainingException("gradient norm is " + norm + " at step " + number + "; non-finite gradients: " + bad);
        }
        double lr = options.schedule().lr(number);
        adamW.step(params, r.gradients(), lr);
        steps = number;
        Step s = new Step(number, r.loss(), norm, lr, options.clipNorm() > 0 && norm > options.clipNorm());
        log.println(s);
        return s;
    }

    /** Steps done. */
    public int steps() { return steps; }

    public AdamW optimizer() { return adamW; }

    /** The trained arrays by name (live: the graph's own). */
    public Map<String, INDArray> parameters() { return java.util.Collections.unmodifiableMap(params); }
}
