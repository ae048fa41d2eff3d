package bloom4j.train.cli;

import bloom4j.models.muq.MuqModel;
import bloom4j.models.songbloom.SketchVocabulary;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.SongBloomLoader;
import bloom4j.models.vae.OobleckVae;
import bloom4j.tensor.cli.ThreadsOption;
import bloom4j.tensor.io.ModelFolder;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.util.Sha256;
import bloom4j.train.data.TrainingJsonl;
import bloom4j.train.sketch.SketchExtractor;
import bloom4j.train.sketch.SketchVocabularyGuard;
import bloom4j.train.songbloom.SongCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code bloom4j cache}: VAE latents, sketch ids and prompt latents of every song of a training JSONL, for {@code bloom4j train}. */
@Command(name = "cache", mixinStandardHelpOptions = true,
        description = {"Caches what fine-tuning reads per song: VAE latents, MuQ/VQ sketch ids and the prompt's latents.",
                "Whole songs are cached (training crops them); latents and sketch are cut to the same whole number of blocks.",
                "Writes <idx>.latent.npy, <idx>.sketch.npy, <idx>.prompt.npy and <idx>.meta.json (codebook, MuQ layer and VAE",
                "hashes); a rerun skips finished songs, a cache of another codebook is refused."})
final class CacheCommand implements Callable<Integer> {

    @Option(names = "--data", required = true, paramLabel = "JSONL", description = "training JSONL (bloom4j prepare / split)")
    Path data;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "SongBloom model folder (bloom4j convert)")
    Path model;

    @Option(names = "--vae", paramLabel = "FILE", description = "VAE checkpoint, when the model folder has no VAE weights")
    Path vae;

    @Option(names = "--muq", required = true, paramLabel = "MODEL", description = "MuQ weights: converted folder, model.safetensors or .pt")
    Path muq;

    @Option(names = "--codebook", required = true, paramLabel = "FILE", description = "codebook from train-vq")
    Path codebook;

    @Option(names = "--layer", defaultValue = "-1", paramLabel = "L", description = "MuQ hidden state (default: the codebook's)")
    int layer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "cache folder")
    Path out;

    @Mixin ThreadsOption threads;

    @Override public Integer call() throws Exception {
        bloom4j.nn.ComputeThreads.forInference(threads.resolve());
        List<TrainingJsonl.Item> items = TrainingJsonl.read(data);
        if (!Files.isRegularFile(codebook)) throw new IllegalArgumentException("--codebook " + codebook + ": no such file");
        ModelFolder folder = ModelFolder.open(model).requireType("songbloom");
        SongBloomConfig c;
        try (TensorSource w = folder.openWeights()) {
            c = SongBloomConfig.fromModelFolder(folder, w);
        }
        SketchVocabulary vocab = SketchVocabularyGuard.read(model);
        SketchExtractor.Encoder enc = SketchExtractor.Encoder.open(codebook, layer, MuqModel.load(muq), muq);
        SketchVocabularyGuard.requireFits(vocab, enc.codebook().size(), model, codebook.toString());
        System.out.println(SketchVocabularyGuard.semanticsNote(enc.codebook().sha256()));
        String vaeSha = vae == null ? folder.weightsSha256() : Files.isDirectory(vae) ? ModelFolder.open(vae).weightsSha256() : Sha256.of(vae);
        OobleckVae v = SongBloomLoader.loadVae(model, vae);
        SongCache.run(new SongCache.Options(data, out, c.blockSize(), vocab, vaeSha, muq.getFileName().toString()), items, v, enc, true,
                System.out);
        return 0;
    }
}
