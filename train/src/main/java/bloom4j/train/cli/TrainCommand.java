package bloom4j.train.cli;

import bloom4j.nn.ComputeThreads;
import bloom4j.tensor.cli.ThreadsOption;
import bloom4j.train.songbloom.FineTuneSettings;
import bloom4j.train.songbloom.SongBloomFineTune;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code bloom4j train}: LoRA/DoRA fine-tuning of SongBloom on cached songs. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Fine-tunes SongBloom with LoRA or DoRA on songs cached by bloom4j cache.",
                "Loss = AR cross-entropy + 0.1 x flow-matching MSE through the frozen DiT. Trains the AR adapters, the Japanese",
                "lyric-embedding rows and the sketch tables; validates deterministically; writes RUN/adapter (use it with",
                "bloom4j generate --lora RUN), RUN/last, RUN/best-1, RUN/checkpoints/step-N, metrics.jsonl and loss.png.",
                "--resume-from RUN/last continues bit-exactly (also from the fork's Lightning .ckpt)."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "SongBloom model folder (bloom4j convert)")
    Path model;

    @Option(names = "--train", required = true, paramLabel = "JSONL", description = "training songs (bloom4j prepare / split)")
    Path train;

    @Option(names = "--val", paramLabel = "JSONL", description = "validation songs (default: --val-ratio of --train, split here)")
    Path val;

    @Option(names = "--val-ratio", defaultValue = "0.1", paramLabel = "R", description = "share of --train held out without --val (default: ${DEFAULT-VALUE})")
    double valRatio;

    @Option(names = "--cache", required = true, paramLabel = "DIR", description = "cache folder from bloom4j cache")
    Path cache;

    @Option(names = "--out", required = true, paramLabel = "RUN_DIR", description = "run folder (created; reused by --resume-from)")
    Path out;

    @Option(names = "--rank", defaultValue = "16", description = "LoRA rank (default: ${DEFAULT-VALUE})")
    int rank;

    @Option(names = "--alpha", defaultValue = "32", description = "LoRA alpha (default: ${DEFAULT-VALUE})")
    double alpha;

    @Option(names = "--lora-dropout", defaultValue = "0.05", paramLabel = "P", description = "dropout on the adapter input (default: ${DEFAULT-VALUE})")
    double loraDropout;

    @Option(names = "--targets", defaultValue = "q_proj,v_proj", split = ",", paramLabel = "NAMES",
            description = "adapted modules, PEFT's matching (default: ${DEFAULT-VALUE})")
    List<String> targets;

    @Option(names = "--dora", description = "DoRA instead of LoRA (a magnitude vector per adapted layer)")
    boolean dora;

    @Option(names = "--train-lyric-rows", defaultValue = "ja", paramLabel = "ja|all|none",
            description = "lyric-embedding rows to train: Japanese phones + punctuation + tags, all, none (default: ${DEFAULT-VALUE})")
    String lyricRows;

    @Option(names = "--freeze-sketch-tables", description = "keep skeleton_emb and the classifier frozen (only right for the pretraining codebook)")
    boolean freezeSketchTables;

    @Option(names = "--allow-dit-lora", description = "allow --targets that adapt the DiT (warns: it removed vocals in the fork's runs)")
    boolean allowDitLora;

    @Option(names = "--train-all", description = "train every weight of the AR, the DiT and the conditioners (memory!)")
    boolean trainAll;

    @Option(names = "--lr", defaultValue = "1e-4", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--warmup-steps", defaultValue = "0", paramLabel = "W", description = "linear warmup, then cosine to 0 at the last step (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--max-steps", defaultValue = "0", paramLabel = "S", description = "optimizer steps (default: from --epochs)")
    int maxSteps;

    @Option(names = "--epochs", defaultValue = "1", description = "passes over the training songs when --max-steps is 0 (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--accumulate-grad-batches", defaultValue = "1", paramLabel = "N", description = "micro-batches per optimizer step, averaged (default: ${DEFAULT-VALUE})")
    int accumulate;

    @Option(names = "--batch-size", defaultValue = "1", paramLabel = "B", description = "songs per micro-batch (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--max-duration", defaultValue = "150", paramLabel = "SECONDS", description = "crop length (default: ${DEFAULT-VALUE})")
    double maxDuration;

    @Option(names = "--segment-strategy", defaultValue = "start", paramLabel = "start|random", description = "where a longer song is cropped (default: ${DEFAULT-VALUE})")
    String segment;

    @Option(names = "--val-check-interval", defaultValue = "0.25", paramLabel = "F", description = "validate every F of an epoch (default: ${DEFAULT-VALUE})")
    double valInterval;

    @Option(names = "--val-every-steps", defaultValue = "0", paramLabel = "N", description = "validate every N steps instead")
    int valEvery;

    @Option(names = "--best-k", defaultValue = "2", paramLabel = "K", description = "best checkpoints kept by val/loss (default: ${DEFAULT-VALUE})")
    int bestK;

    @Option(names = "--keep-last", defaultValue = "2", paramLabel = "N", description = "checkpoints/step-N folders kept (default: ${DEFAULT-VALUE})")
    int keepLast;

    @Option(names = "--h-dropout", defaultValue = "0.05", paramLabel = "P", description = "h/s dropout of the DiT condition (released config; default: ${DEFAULT-VALUE})")
    double hDropout;

    @Option(names = "--condition-dropout", defaultValue = "0.1", paramLabel = "P", description = "per-song null lyrics and prompt (CFG; default: ${DEFAULT-VALUE})")
    double conditionDropout;

    @Option(names = "--seed", defaultValue = "1234", description = "seed of every random draw (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--resume-from", paramLabel = "DIR|CKPT", description = "RUN/last, RUN/checkpoints/step-N, or the fork's Lightning .ckpt")
    Path resume;

    @Option(names = "--force-resume", description = "resume although base, codebook, split, vocabulary or LoRA settings changed (recorded in run.json)")
    boolean forceResume;

    @Option(names = "--stop-after", defaultValue = "0", paramLabel = "N", description = "stop after N steps with a checkpoint (resume later)")
    int stopAfter;

    @Mixin ThreadsOption threads;

    @Override public Integer call() throws Exception {
        ComputeThreads.forInference(threads.resolve());
        FineTuneSettings s = new FineTuneSettings(model, train, val, valRatio, cache, out, rank, alpha, loraDropout, targets, dora,
                enumOf(FineTuneSettings.LyricRows.class, lyricRows, "--train-lyric-rows"), !freezeSketchTables, allowDitLora, trainAll, lr,
                warmup, maxSteps, epochs, accumulate, batch, maxDuration, enumOf(FineTuneSettings.Segment.class, segment, "--segment-strategy"),
                valInterval, valEvery, seed, keepLast, bestK, hDropout, conditionDropout, resume, forceResume, stopAfter);
        SongBloomFineTune.run(s, System.out);
        return 0;
    }

    static <E extends Enum<E>> E enumOf(Class<E> type, String value, String option) {
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(value)) return e;
        throw new IllegalArgumentException(option + " must be one of " + java.util.Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).toList() + ", got '" + value + "'");
    }
}
