package bloom4j.convert;

import bloom4j.models.songbloom.InferenceConfig;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.List;

/**
 * What a model family checks at conversion time, before anything is written: that the upstream config given with {@code --config}
 * fits the weights (a wrong YAML fails the conversion, naming the key and both values), or a warning when the config the model
 * loader needs was not given.
 */
@FunctionalInterface
interface ConfigHook {
    ConfigHook NONE = (upstream, weights) -> List.of();

    /**
     * @param upstream the parsed {@code --config}, or null
     * @return warnings to show (the conversion goes on)
     * @throws IOException when the config contradicts the weights
     */
    List<String> check(JsonNode upstream, TensorSource weights) throws IOException;

    /** SongBloom: heads and rotary base are not in the weights, so generation needs the YAML; every value it gives is checked. */
    ConfigHook SONGBLOOM = (upstream, weights) -> {
        if (upstream == null) {
            return List.of("no --config given: SongBloom's attention heads and rotary base are not in the weights, so the folder cannot "
                    + "be loaded for generation; convert again with --config songbloom_full_150s.yaml (or the YAML of your checkpoint)");
        }
        SongBloomConfig c;
        InferenceConfig inference;
        try {
            c = SongBloomConfig.resolve(upstream, weights);
        } catch (IllegalArgumentException e) {
            throw new IOException("--config does not fit the checkpoint: " + e.getMessage(), e);
        }
        try {
            inference = InferenceConfig.parse(upstream, "--config");
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        String topK = inference.topKProblem(c.sketchVocabulary());
        if (topK == null) return List.of();
        // A top_k the YAML gives is the user's mistake; the released default on a smaller model is only worth a warning.
        if (inference.given("top_k")) throw new IOException(topK);
        return List.of(topK);
    };
}
