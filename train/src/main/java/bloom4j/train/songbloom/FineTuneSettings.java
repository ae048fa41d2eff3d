package bloom4j.train.songbloom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything a SongBloom fine-tuning run is configured with ({@code bloom4j train}'s options), with the defaults of the spec'd
 * workflow: LoRA r 16, α 32, dropout 0.05 on the AR's {@code q_proj}/{@code v_proj} (the fork's, ayutaz/SongBloom@8f7d34f
 * {@code train_japanese.py} L184-194), the Japanese lyric rows and the sketch tables trained, lr 1e-4, global-norm clip 1.0, batch 1,
 * 150 s crops from the start, seed 1234. {@code stopAfter} > 0 ends the run after that many optimizer steps of its schedule, with a
 * checkpoint to resume from (a planned interruption; the schedule still runs to the total).
 */
public record FineTuneSettings(Path model, Path train, Path val, double valRatio, Path cache, Path out,
                               int rank, double alpha, double dropout, List<String> targets, boolean dora,
                               LyricRows lyricRows, boolean trainSketchTables, boolean allowDitLora, boolean trainAll,
                               double lr, int warmupSteps, int maxSteps, int epochs, int accumulate, int batchSize,
                               double maxDurationSeconds, Segment segment, double valCheckInterval, int valEverySteps,
                               long seed, int keepLast, int bestK, double hDropout, double conditionDropout,
                               Path resumeFrom, boolean forceResume, int stopAfter) {

    /** Which rows of the lyric embedding train: the Japanese phones, punctuation and tags; all; none. */
    public enum LyricRows { JA, ALL, NONE }

    /** Where a song longer than the crop is cut: at its start, or at a random block. */
    public enum Segment { START, RANDOM }

    public FineTuneSettings {
        if (rank < 1) throw new IllegalArgumentException("--rank must be >= 1, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("--alpha must be positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("--lora-dropout must be in [0, 1), got " + dropout);
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
        if (warmupSteps < 0) throw new IllegalArgumentException("--warmup-steps must be >= 0, got " + warmupSteps);
        if (maxSteps < 0) throw new IllegalArgumentException("--max-steps must be >= 0 (0 = from --epochs), got " + maxSteps);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        if (accumulate < 1) throw new IllegalArgumentException("--accumulate-grad-batches must be >= 1, got " + accumulate);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        if (!(maxDurationSeconds > 0)) throw new IllegalArgumentException("--max-duration must be positive seconds, got " + maxDurationSeconds);
        if (!(valCheckInterval > 0 && valCheckInterval <= 1)) {
            throw new IllegalArgumentException("--val-check-interval must be a fraction of an epoch in (0, 1], got " + valCheckInterval);
        }
        if (valEverySteps < 0) throw new IllegalArgumentException("--val-every-steps must be >= 0, got " + valEverySteps);
        if (val == null && !(valRatio > 0 && valRatio < 1)) {
            throw new IllegalArgumentException("give --val JSONL or --val-ratio in (0, 1), got " + valRatio);
        }
        if (keepLast < 1) throw new IllegalArgumentException("--keep-last must be >= 1, got " + keepLast);
        if (bestK < 0) throw new IllegalArgumentException("--best-k must be >= 0, got " + bestK);
        if (!(hDropout >= 0 && hDropout < 1)) throw new IllegalArgumentException("--h-dropout must be in [0, 1), got " + hDropout);
        if (!(conditionDropout >= 0 && conditionDropout < 1)) {
            throw new IllegalArgumentException("--condition-dropout must be in [0, 1), got " + conditionDropout);
        }
        if (stopAfter < 0) throw new IllegalArgumentException("--stop-after must be >= 0 (0 = run to the end), got " + stopAfter);
        if (targets == null || targets.isEmpty()) throw new IllegalArgumentException("--targets needs at least one module name");
        targets = List.copyOf(targets);
    }

    /** What a resumed run must agree on (anything else may change between runs, e.g. the number of steps). */
    public ObjectNode identity(ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        n.put("rank", rank).put("alpha", alpha).put("lora_dropout", dropout).put("dora", dora).put("lyric_rows", lyricRows.name())
                .put("train_sketch_tables", trainSketchTables).put("allow_dit_lora", allowDitLora).put("train_all", trainAll)
                .put("batch_size", batchSize).put("accumulate", accumulate).put("max_duration_s", maxDurationSeconds)
                .put("segment", segment.name()).put("seed", seed).put("h_dropout", hDropout).put("condition_dropout", conditionDropout);
        n.putArray("targets").addAll(targets.stream().map(json.getNodeFactory()::textNode).toList());
        return n;
    }

    /** The settings as a JSON object (recorded in the run folder). */
    public JsonNode toJson(ObjectMapper json) {
        ObjectNode n = identity(json);
        n.put("model", model.toString()).put("train", train.toString()).put("val", val == null ? null : val.toString())
                .put("val_ratio", valRatio).put("cache", cache.toString()).put("out", out.toString()).put("lr", lr)
                .put("warmup_steps", warmupSteps).put("max_steps", maxSteps).put("epochs", epochs)
                .put("val_check_interval", valCheckInterval).put("val_every_steps", valEverySteps).put("keep_last", keepLast)
                .put("best_k", bestK);
        return n;
    }
}
