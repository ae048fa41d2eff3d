package bloom4j.models.songbloom;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Per-token sampling settings of the sketch LM (upstream {@code MVSA_DiTAR.generate} arguments, filled from the config's
 * {@code inference} block).
 *
 * @param cfgCoef       logit CFG scale: {@code u + (c - u) * cfgCoef} (1.5 released)
 * @param useSampling   false: greedy argmax of the (guided, penalized) logits, no temperature, no noise
 * @param temperature   softmax temperature (0.9 released); {@code <= 0} also means greedy, as upstream ({@code temp > 0.0} test)
 * @param topK          keep the classes whose probability is {@code >=} the k-th largest (ties kept); 0 = no truncation (100 released)
 * @param penaltyRepeat divide the logits of recently sampled codes by 1.1, from the second block on (true released)
 * @param penaltyWindow how many recent tokens form the penalty window (50 released)
 */
public record SamplingOptions(float cfgCoef, boolean useSampling, float temperature, int topK, boolean penaltyRepeat,
                              int penaltyWindow) {

    public SamplingOptions {
        if (!Float.isFinite(cfgCoef)) throw new IllegalArgumentException("cfgCoef must be finite, got " + cfgCoef);
        if (!Float.isFinite(temperature) || temperature < 0) {
            throw new IllegalArgumentException("temperature must be finite and >= 0 (0 = greedy), got " + temperature);
        }
        if (topK < 0) throw new IllegalArgumentException("topK must be >= 0 (0 = no top-k truncation), got " + topK);
        if (penaltyRepeat && penaltyWindow < 1) {
            // Upstream would slice token_seq[:, -0:] = the whole history for 0; refuse instead of reproducing that accident.
            throw new IllegalArgumentException("penaltyWindow must be >= 1 when penaltyRepeat is on, got " + penaltyWindow
                    + "; turn penaltyRepeat off to disable the penalty");
        }
    }

    /** The released {@code inference} block: cfg 1.5, sampling, temperature 0.9, top-k 100, penalty over the last 50 tokens. */
    public static SamplingOptions released() { return new SamplingOptions(1.5f, true, 0.9f, 100, true, 50); }

    /**
     * From the {@code inference} block of the upstream YAML ({@code cfg_coef}, {@code temp}, {@code top_k}, {@code penalty_repeat},
     * {@code penalty_window}; {@code use_sampling} is upstream's default, true), or from a node that is that block itself. Keys it
     * lacks keep the {@link #released()} values. A pair {@code cfg_coef: [lm, diff]} gives its first element here. Read strictly by
     * {@link InferenceConfig}, the one parser of that block.
     */
    public static SamplingOptions fromUpstream(JsonNode root) {
        JsonNode n = root != null && root.path("inference").isObject() ? root.get("inference") : root;
        if (n == null || !n.isObject()) return released();
        com.fasterxml.jackson.databind.node.ObjectNode wrapped = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        wrapped.set("inference", n);
        return InferenceConfig.parse(wrapped, "the inference block").sampling();
    }

    /** True when a token is drawn from the distribution (upstream {@code use_sampling and temp > 0.0}). */
    public boolean sampling() { return useSampling && temperature > 0; }

    public SamplingOptions withTopK(int k) { return new SamplingOptions(cfgCoef, useSampling, temperature, k, penaltyRepeat, penaltyWindow); }

    public SamplingOptions withTemperature(float t) {
        return new SamplingOptions(cfgCoef, useSampling, t, topK, penaltyRepeat, penaltyWindow);
    }

    public SamplingOptions withPenaltyWindow(int w) {
        return new SamplingOptions(cfgCoef, useSampling, temperature, topK, penaltyRepeat, w);
    }
}
