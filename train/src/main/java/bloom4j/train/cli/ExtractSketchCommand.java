package bloom4j.train.cli;

import bloom4j.models.muq.MuqModel;
import bloom4j.train.sketch.AudioReader;
import bloom4j.train.sketch.SketchExtractor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code bloom4j extract-sketch}: per-song sketch tokens at 25 fps, aligned 1:1 with the VAE latent frames, cached. */
@Command(name = "extract-sketch", mixinStandardHelpOptions = true,
        description = {"Sketch tokens for every audio file of --data-dir (MuQ hidden state at the codebook's layer -> nearest code).",
                "25 per second, cut to the VAE latent length (⌊samples at 48 kHz / 1920⌋). Writes <idx>.sketch.npy (int32) and",
                "<idx>.meta.json (codebook SHA-256, layer); a rerun skips finished files, another codebook's folder is refused."})
final class ExtractSketchCommand implements Callable<Integer> {

    @Option(names = "--data-dir", required = true, paramLabel = "AUDIO", description = "folder of audio files (searched recursively)")
    Path dataDir;

    @Option(names = "--codebook", required = true, paramLabel = "FILE", description = "codebook from train-vq (or a vector-quantize-pytorch .pt)")
    Path codebook;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "folder for the sketch files")
    Path output;

    @Option(names = "--muq", required = true, paramLabel = "MODEL", description = "MuQ weights: converted folder, model.safetensors or .pt")
    Path muq;

    @Option(names = "--layer", defaultValue = "-1", paramLabel = "L", description = "MuQ hidden state (default: the codebook's)")
    int layer;

    @Option(names = "--model", paramLabel = "DIR", description = "SongBloom model folder: check that the sketch ids fit its vocabulary")
    Path model;

    @Option(names = "--overwrite", description = "replace sketches made with another codebook or layer")
    boolean overwrite;

    @Override public Integer call() throws Exception {
        SketchExtractor.Options o = new SketchExtractor.Options(dataDir, codebook, output, muq, layer, model, overwrite);
        SketchExtractor.run(o, MuqModel.load(muq), AudioReader.files(), true, System.out);
        return 0;
    }
}
