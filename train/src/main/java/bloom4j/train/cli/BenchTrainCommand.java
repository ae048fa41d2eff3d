package bloom4j.train.cli;

import bloom4j.tensor.cli.ThreadsOption;
import bloom4j.train.bench.TrainBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code bloom4j bench-train}: AR training-step time, LoRA vs DoRA vs full fine-tuning (see {@link TrainBench}). */
@Command(name = "bench-train", mixinStandardHelpOptions = true,
        description = {"Training-step time of SongBloom's AR (random weights, synthetic sketches, FP32) for LoRA, DoRA and full tuning.",
                "LoRA and DoRA adapt q_proj/v_proj; each step = forward, backward, clip, AdamW. PyTorch counterpart:",
                "train/src/bench/python/bench_train.py (same options)."})
final class BenchTrainCommand implements Callable<Integer> {
    @Option(names = "--dim", defaultValue = "512") int dim;
    @Option(names = "--heads", defaultValue = "8") int heads;
    @Option(names = "--layers", defaultValue = "4") int layers;
    @Option(names = "--pitch", defaultValue = "1024", description = "sketch codes (classes = pitch + 1)") int pitch;
    @Option(names = "--block-size", defaultValue = "16") int blockSize;
    @Option(names = "--latent", defaultValue = "64") int latent;
    @Option(names = "--batch", defaultValue = "2") int batch;
    @Option(names = "--prefix", defaultValue = "17", description = "condition positions") int prefix;
    @Option(names = "--sketch", defaultValue = "224", description = "sketch tokens per row (positions = prefix + sketch + sketch/block + 1)")
    int sketch;
    @Option(names = "--rank", defaultValue = "16") int rank;
    @Option(names = "--steps", defaultValue = "5") int steps;
    @Option(names = "--warmup", defaultValue = "2") int warmup;
    @Mixin ThreadsOption threads;
    @Option(names = "--modes", defaultValue = "lora,dora,full", split = ",") List<String> modes;
    @Option(names = "--objective", description = "time the whole fine-tuning objective (AR + DiT flow term, LoRA + tables) and report peak RSS")
    boolean objective;
    @Option(names = "--diff-layers", defaultValue = "12", description = "DiT layers (with --objective)") int diffLayers;
    @Option(names = "--prompt-len", defaultValue = "250", description = "prompt condition rows (with --objective)") int promptLen;
    @Option(names = "--lyrics-len", defaultValue = "600", description = "lyric condition rows (with --objective)") int lyricsLen;
    @Option(names = "--crop", defaultValue = "30", paramLabel = "SECONDS", description = "song crop (with --objective)") double crop;

    @Override public Integer call() {
        if (objective) {
            TrainBench.runObjective(new TrainBench.ObjectiveOptions(dim, heads, layers, diffLayers, pitch, blockSize, latent, promptLen,
                    lyricsLen, crop, rank, steps, warmup, threads.resolve()), System.out);
            return 0;
        }
        for (String m : modes) if (!List.of("lora", "dora", "full").contains(m)) throw new IllegalArgumentException("--modes: lora|dora|full, got " + m);
        if (sketch % blockSize != 0) throw new IllegalArgumentException("--sketch must be a multiple of --block-size");
        TrainBench.run(new TrainBench.Options(dim, heads, layers, pitch, blockSize, latent, batch, prefix, sketch, rank, steps, warmup,
                threads.resolve(), modes), System.out);
        return 0;
    }
}
