package bloom4j.models.songbloom;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Picks one sketch token from the classifier output of the CFG batch, exactly as upstream {@code MVSA_DiTAR._sample_next_block}
 * (tencent-ailab/SongBloom@ef78022, {@code songbloom_mvsa.py} L396-425) with {@code sample_top_k} / {@code multinomial} from
 * {@code SongBloom/models/base/sample.py}. Per token step:
 * <ol>
 *   <li>CFG on logits: {@code l = u + (c - u) * cfgCoef} (c = batch row 0, conditional; u = row 1, unconditional);</li>
 *   <li>repetition penalty, only when the block has a window (from the second block on): for each distinct id {@code d} in the
 *       window with {@code d < P} (P = number of codes, so EOS padding is never penalized), {@code l[d] /= 1.1}. This
 *       <em>divides</em> whatever the sign, so a negative logit grows towards 0 (the upstream quirk, kept), and each id is divided
 *       once however often it occurs ({@code bincount(unique(pool))}). Upstream applies it per batch row of the guided logits, of
 *       which there is one (row 0);</li>
 *   <li>greedy mode ({@code !useSampling} or temperature {@code <= 0}): argmax of {@code l}, first index on ties;</li>
 *   <li>otherwise {@code p = softmax(l / temperature)}; top-k: keep {@code p >= } the k-th largest {@code p} (ties with it are
 *       kept, so more than k may survive), then {@code p /= sum(p)}; then the multinomial draw {@code argmax(p / q)} with
 *       {@code q} one row of Exp(1) noise from the {@link NoiseSource} (torch's fast path; see there).</li>
 * </ol>
 * Arithmetic mirrors float32 torch: CFG, the penalty division by {@code 1.1f} and the temperature division are float32 operations
 * in upstream order, so the scaled logits match a float32 reference exactly; the softmax is computed in double and rounded to float.
 *
 * <p>top-p sampling (upstream {@code top_p > 0}) is not implemented: the released configuration uses {@code top_p = 0}.
 *
 * <p>One sampler serves a whole generation; it is not thread-safe (the noise source is stateful).
 */
public final class SketchSampler {

    /** Divisor of the repetition penalty (a constant in upstream). */
    public static final float PENALTY = 1.1f;

    private final SketchVocabulary vocab;
    private final SamplingOptions options;
    private final NoiseSource noise;

    /**
     * One sampled token and what led to it.
     *
     * @param token        the chosen id ({@code 0..P}, P = EOS)
     * @param scaledLogits what upstream hands to softmax: {@code (CFG + penalty) / temperature}; in greedy mode the guided,
     *                     penalized logits
     * @param probs        the distribution drawn from (after top-k and renormalisation); {@code null} in greedy mode
     */
    public record Step(int token, float[] scaledLogits, float[] probs) { }

    public SketchSampler(SketchVocabulary vocab, SamplingOptions options, NoiseSource noise) {
        if (options.topK() > vocab.classes()) {
            throw new IllegalArgumentException("top_k " + options.topK() + " exceeds the " + vocab.classes() + " sketch classes ("
                    + vocab.numCodes() + " codes + EOS); torch.topk would fail: lower top_k to at most " + vocab.classes());
        }
        this.vocab = vocab;
        this.options = options;
        this.noise = noise;
    }

    public SketchVocabulary vocabulary() { return vocab; }

    public SamplingOptions options() { return options; }

    /**
     * The penalty window for the next block given every sketch token kept so far (none for the first block or when the penalty is
     * off). Pass it to each {@link #sample} call of that block; the sampler pushes each sampled token into it.
     */
    public PenaltyWindow windowForBlock(int[] keptTokens) {
        if (!options.penaltyRepeat()) return PenaltyWindow.none();
        return PenaltyWindow.forBlock(keptTokens, options.penaltyWindow(), vocab.eos());
    }

    /**
     * One token from the classifier output of the CFG batch, {@code [2, C]} or {@code [2, 1, C]} (row 0 conditional, row 1
     * unconditional), C = P + 1.
     */
    public Step sample(INDArray cfgClassifierOut, PenaltyWindow window) {
        if (cfgClassifierOut.length() != 2L * vocab.classes() || cfgClassifierOut.size(0) != 2) {
            throw new IllegalArgumentException("expected the CFG batch of classifier outputs [2, " + vocab.classes() + "] (cond, uncond), got "
                    + Arrays.toString(cfgClassifierOut.shape()));
        }
        float[][] rows = cfgClassifierOut.castTo(DataType.FLOAT).reshape('c', 2, vocab.classes()).toFloatMatrix();
        return sample(rows[0], rows[1], window);
    }

    /** One token from conditional and unconditional classifier outputs ({@code C = P + 1} each). */
    public Step sample(float[] cond, float[] uncond, PenaltyWindow window) {
        requireClasses(cond, "conditional");
        requireClasses(uncond, "unconditional");
        return sampleGuided(guide(cond, uncond, options.cfgCoef()), window);
    }

    /**
     * One token from logits that are already guided (or come from a model run without CFG). {@code logits} is not modified. The
     * chosen token is pushed into {@code window}.
     */
    public Step sampleGuided(float[] logits, PenaltyWindow window) {
        requireClasses(logits, "guided");
        float[] l = logits.clone();
        if (window.isActive()) applyRepetitionPenalty(l, window.tokens(), vocab.numCodes());
        Step step;
        if (!options.sampling()) {
            step = new Step(argmax(l), l, null);
        } else {
            float[] scaled = new float[l.length];
            float t = options.temperature();
            for (int i = 0; i < l.length; i++) scaled[i] = l[i] / t;
            float[] p = softmax(scaled);
            if (options.topK() > 0) keepTopK(p, options.topK());
            int token = multinomial(p, noise.exponential(p.length));
            step = new Step(token, scaled, p);
        }
        window.push(step.token());
        return step;
    }

    private void requireClasses(float[] logits, String what) {
        if (logits.length != vocab.classes()) {
            throw new IllegalArgumentException(what + " logits have " + logits.length + " classes, the sketch vocabulary has "
                    + vocab.classes() + " (" + vocab.numCodes() + " codes + EOS)");
        }
    }

    /** Logit CFG: {@code u + (c - u) * cfgCoef}, float32 in upstream operation order. */
    public static float[] guide(float[] cond, float[] uncond, float cfgCoef) {
        if (cond.length != uncond.length) {
            throw new IllegalArgumentException("cond and uncond logits differ in length: " + cond.length + " vs " + uncond.length);
        }
        float[] out = new float[cond.length];
        for (int i = 0; i < out.length; i++) out[i] = uncond[i] + (cond[i] - uncond[i]) * cfgCoef;
        return out;
    }

    /**
     * The upstream repetition penalty, in place: every distinct id {@code d} of {@code window} with {@code 0 <= d < numCodes} gets
     * {@code logits[d] /= 1.1f}. Upstream computes {@code q = bincount(unique(window))}, {@code n = min(len(q), num_pitch - 1)}
     * where {@code num_pitch - 1} is P, and divides {@code logits[:n]} by {@code 1.1 ** q[:n]} (a float32 tensor of 1 and 1.1f),
     * which is the same thing: ids at or above P (EOS, the left padding) are untouched.
     */
    public static void applyRepetitionPenalty(float[] logits, int[] window, int numCodes) {
        int limit = Math.min(numCodes, logits.length);
        boolean[] seen = new boolean[limit];
        for (int d : window) {
            if (d < 0) throw new IllegalArgumentException("negative token " + d + " in the penalty window " + Arrays.toString(window));
            if (d < limit && !seen[d]) {
                seen[d] = true;
                logits[d] /= PENALTY;
            }
        }
    }

    /** Softmax over the whole array (computed in double, rounded to float). */
    public static float[] softmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) {
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                throw new IllegalStateException("sketch logits contain " + v + "; torch.multinomial would fail on the resulting probabilities");
            }
            max = Math.max(max, v);
        }
        if (max == Double.NEGATIVE_INFINITY) throw new IllegalStateException("all sketch logits are -inf; nothing can be sampled");
        double[] e = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            e[i] = Math.exp(x[i] - max);
            sum += e[i];
        }
        float[] p = new float[x.length];
        for (int i = 0; i < x.length; i++) p[i] = (float) (e[i] / sum);
        return p;
    }

    /**
     * Top-k as upstream {@code sample_top_k}, in place: zero every probability below the k-th largest (so ties with the k-th
     * largest survive), then divide by the (float) sum.
     */
    public static void keepTopK(float[] probs, int k) {
        if (k < 1 || k > probs.length) throw new IllegalArgumentException("top-k needs 1 <= k <= " + probs.length + ", got " + k);
        float[] sorted = probs.clone();
        Arrays.sort(sorted);
        float kth = sorted[sorted.length - k];
        double sum = 0;
        for (int i = 0; i < probs.length; i++) {
            if (!(probs[i] >= kth)) probs[i] = 0f;
            sum += probs[i];
        }
        float s = (float) sum;
        for (int i = 0; i < probs.length; i++) probs[i] = probs[i] / s;
    }

    /**
     * torch's single-sample multinomial: {@code argmax(p / q)} with {@code q} Exp(1) noise of the same length, first index on ties.
     * Zero-probability classes can never win since {@code q > 0}.
     */
    public static int multinomial(float[] probs, float[] q) {
        if (q.length != probs.length) {
            throw new IllegalArgumentException("noise has " + q.length + " values for " + probs.length + " probabilities");
        }
        int best = -1;
        float bestScore = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < probs.length; i++) {
            float p = probs[i];
            if (!(p >= 0f) || Float.isInfinite(p)) {
                throw new IllegalStateException("probability " + p + " at class " + i + "; torch.multinomial requires finite values >= 0");
            }
            float score = p / q[i];
            if (score > bestScore) {
                bestScore = score;
                best = i;
            }
        }
        return best;
    }

    /** Index of the largest value, first on ties (torch.argmax). */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
