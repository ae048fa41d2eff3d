package bloom4j.train.cli;

import bloom4j.models.muq.MuqModel;
import bloom4j.models.vq.Distance;
import bloom4j.train.sketch.AudioReader;
import bloom4j.train.vq.FrameSource;
import bloom4j.train.vq.VqTrainOptions;
import bloom4j.train.vq.VqTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code bloom4j train-vq}: an EMA VQ codebook over MuQ frames of a folder of songs. */
@Command(name = "train-vq", mixinStandardHelpOptions = true,
        description = {"Train a sketch codebook (EMA VQ as vector-quantize-pytorch 1.14.8) over MuQ hidden states of --data-dir.",
                "Audio files are WAV/FLAC/MP3, mixed to mono, resampled to 24 kHz. Resumable: rerun the same command after an",
                "interruption. Writes safetensors (codebook [K, D], EMA state, metadata with the MuQ layer and the codebook's SHA-256)."})
final class TrainVqCommand implements Callable<Integer> {

    @Option(names = "--data-dir", required = true, paramLabel = "AUDIO", description = "folder of audio files (searched recursively)")
    Path dataDir;

    @Option(names = "--output", required = true, paramLabel = "CODEBOOK", description = "codebook file to write (.safetensors)")
    Path output;

    @Option(names = "--muq", required = true, paramLabel = "MODEL", description = "MuQ weights: converted folder, model.safetensors or .pt")
    Path muq;

    @Option(names = "--codebook-size", required = true, paramLabel = "N", description = "number of codes K (at most the model's num_pitch)")
    int codebookSize;

    @Option(names = "--epochs", defaultValue = "10", paramLabel = "E", description = "passes over the data (default 10)")
    int epochs;

    @Option(names = "--layer", paramLabel = "L",
            description = "MuQ hidden state: 0 = conv stem .. the model's depth = last hidden state (default: the last; 12 for MuQ-large)")
    Integer layer;

    @Option(names = "--model", paramLabel = "DIR", description = "SongBloom model folder: check that the codebook fits its sketch vocabulary")
    Path model;

    @Option(names = "--batch-frames", defaultValue = "4096", paramLabel = "N", description = "frames per EMA step (default 4096)")
    int batchFrames;

    @Option(names = "--distance", defaultValue = "euclidean", paramLabel = "D", description = "euclidean (default) or cosine")
    String distance;

    @Option(names = "--decay", defaultValue = "0.99", paramLabel = "X", description = "EMA decay (default 0.99)")
    double decay;

    @Option(names = "--dead-code-threshold", defaultValue = "2", paramLabel = "X",
            description = "replace codes whose EMA cluster size is below X (default 2; 0 = never)")
    double deadCode;

    @Option(names = "--kmeans-init", defaultValue = "true", negatable = true, fallbackValue = "true",
            description = "initialise by k-means on the first batch (default on)")
    boolean kmeans;

    @Option(names = "--kmeans-iters", defaultValue = "10", paramLabel = "N", description = "k-means iterations (default 10)")
    int kmeansIters;

    @Option(names = "--seed", defaultValue = "1234", paramLabel = "N", description = "seed of init, file order, dead-code draws")
    long seed;

    @Override public Integer call() throws Exception {
        VqTrainOptions o = new VqTrainOptions(dataDir, output, muq, layer == null ? 0 : layer, codebookSize, epochs, batchFrames,
                Distance.parse(distance), decay, deadCode, kmeans, kmeansIters, seed, model);
        AudioReader reader = AudioReader.files();
        var files = VqTrainer.audioFiles(dataDir, reader::accepts);
        if (files.isEmpty()) throw new IllegalArgumentException("--data-dir " + dataDir + " holds no .wav/.flac/.mp3 files");
        MuqModel m = MuqModel.load(muq);
        int last = m.config().hiddenStates() - 1;
        if (layer != null && layer > last) {
            throw new IllegalArgumentException("--layer " + layer + ": " + muq + " has hidden states 0 (conv stem) .. " + last
                    + " (last hidden state); choose one of them or omit --layer for the last");
        }
        o = o.withLayer(layer == null ? last : layer);
        VqTrainer.Result r = VqTrainer.train(o, FrameSource.muq(m, reader, o.layer(), muq.getFileName().toString()), files, true,
                System.out);
        System.out.printf("wrote %s: %d codes × %d, sha256 %s (%d steps, %d frames%s)%n", r.codebook(), codebookSize,
                m.config().encoderDim(), r.sha256(), r.steps(), r.frames(), r.resumed() ? ", resumed" : "");
        System.out.println("last epoch: " + r.usage());
        return 0;
    }
}
