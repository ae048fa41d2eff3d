package bloom4j.train.vq;

import bloom4j.models.vq.Distance;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Options of {@code bloom4j train-vq}.
 *
 * @param dataDir           folder of audio files (searched recursively)
 * @param output            the codebook file to write (safetensors)
 * @param muqModel          MuQ weights (converted folder, model.safetensors or .pt)
 * @param layer             MuQ hidden state to quantize: 0 (conv stem) .. the encoder depth (last_hidden_state)
 * @param codebookSize      K
 * @param epochs            passes over the data
 * @param batchFrames       frames per EMA step (a song is cut into batches of at most this many frames)
 * @param distance          euclidean (vector-quantize-pytorch default) or cosine
 * @param decay             EMA decay
 * @param deadCodeThreshold replace codes whose EMA cluster size falls below this (0: never)
 * @param kmeansInit        initialise the codebook by k-means on the first batch
 * @param kmeansIters       k-means iterations
 * @param seed              seeds the codebook init, the file order of each epoch and the dead-code draws
 * @param songbloomModel    optional SongBloom model folder whose sketch vocabulary the codebook must fit
 */
public record VqTrainOptions(Path dataDir, Path output, Path muqModel, int layer, int codebookSize, int epochs, int batchFrames,
                             Distance distance, double decay, double deadCodeThreshold, boolean kmeansInit, int kmeansIters, long seed,
                             Path songbloomModel) {

    public VqTrainOptions {
        if (dataDir == null || !Files.isDirectory(dataDir)) throw new IllegalArgumentException("--data-dir " + dataDir + ": no such folder");
        if (output == null) throw new IllegalArgumentException("--output is required (the codebook .safetensors to write)");
        if (Files.isDirectory(output)) throw new IllegalArgumentException("--output " + output + " is a folder; give a file name such as codebook.safetensors");
        if (muqModel == null || !Files.exists(muqModel)) throw new IllegalArgumentException("--muq " + muqModel + ": no such file or folder");
        if (layer < 0) throw new IllegalArgumentException("--layer must be >= 0 (0 = conv stem .. the model's depth = last hidden state), got " + layer);
        if (codebookSize < 2) throw new IllegalArgumentException("--codebook-size must be >= 2, got " + codebookSize);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be >= 1, got " + epochs);
        if (batchFrames < 1) throw new IllegalArgumentException("--batch-frames must be >= 1, got " + batchFrames);
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("--decay must be in [0, 1), got " + decay);
        if (!(deadCodeThreshold >= 0)) throw new IllegalArgumentException("--dead-code-threshold must be >= 0, got " + deadCodeThreshold);
        if (kmeansIters < 0) throw new IllegalArgumentException("--kmeans-iters must be >= 0, got " + kmeansIters);
        if (songbloomModel != null && !Files.exists(songbloomModel)) {
            throw new IllegalArgumentException("--model " + songbloomModel + ": no such SongBloom model folder");
        }
    }

    /** The same options with another MuQ layer (the command resolves the default, the last layer, once the model is loaded). */
    public VqTrainOptions withLayer(int l) {
        return new VqTrainOptions(dataDir, output, muqModel, l, codebookSize, epochs, batchFrames, distance, decay, deadCodeThreshold,
                kmeansInit, kmeansIters, seed, songbloomModel);
    }

    /** What a resumed run must share with the run that wrote the state (the data list is checked separately). */
    String identity() {
        return String.join("|", "K=" + codebookSize, "layer=" + layer, "epochs=" + epochs, "batch=" + batchFrames, distance.id(),
                "decay=" + decay, "dead=" + deadCodeThreshold, "kmeans=" + kmeansInit + "/" + kmeansIters, "seed=" + seed);
    }
}
