package example;

import bloom4j.convert.ConvertOptions;               // module bloom4j-checkpoint-convert
import bloom4j.convert.ConvertResult;
import bloom4j.convert.Converter;
import bloom4j.models.songbloom.SongGenerator;       // module bloom4j-models
import bloom4j.tensor.DType;                         // module bloom4j-tensor
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.ParityRunner;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.List;

public final class EmbedExample {
    public static void main(String[] args) throws Exception {
        // any .pt/.pth/.bin, Lightning .ckpt, .safetensors, sharded index or bloom4j model folder
        try (TensorSource weights = Checkpoints.open(Path.of("songbloom_full_150s.pt"))) {
            INDArray emb = weights.loadFloat("model.skeleton_emb.weight");   // [16386, 1536] for the released model
            System.out.println("skeleton_emb " + java.util.Arrays.toString(emb.shape()));
        }
        // once: a model folder with the weights and the upstream YAML (what 'bloom4j convert' does)
        ConvertResult r = Converter.convert(new ConvertOptions(List.of(Path.of("songbloom_full_150s.pt")), Path.of("models/songbloom"),
                null /* detect the family */, DType.F32, Path.of("songbloom_full_150s.yaml"), ConvertOptions.DEFAULT_SHARD_BYTES), true);
        System.out.println("converted " + r.tensors() + " tensors into " + r.folder());
        ParityRunner.Outcome o = ParityRunner.run(Path.of("fixtures/pt-formats"), System.out);   // bloom4j's reader against PyTorch

        // song generation with a per-block streaming callback; load() sets up the CLI's thread split unless you called
        // bloom4j.nn.ComputeThreads.forInference(n) first
        SongGenerator g = SongGenerator.load(Path.of("models/songbloom"));
        String lyrics = "[intro] [verse] n i3 h ao3 . w o3 ai4 n i3 , [chorus] HH AH0 L OW1 . W ER1 L D";   // G2P phonemes
        SongGenerator.Request request = SongGenerator.Request.of(lyrics, Path.of("prompt.wav"))
                .withSeed(42).withSamples(3).withMaxDuration(4.0);   // defaults (steps, cfg, top-k...) from the model folder
        List<SongGenerator.Song> songs = g.generate(request,
                e -> System.out.printf("sample %d block %d of at most %d%s%n", e.sample(), e.block(), e.maxBlocks(),
                        e.kept() ? "" : " (end of song: not kept)"));
        // an event also has e.tokens(), e.latents() and e.audioSoFar().get() (a Supplier: it runs the VAE over the kept blocks)
        AudioIO.write(Path.of("out.flac"), songs.get(0).audio(), AudioFormat.FLAC);
        SongGenerator.Song third = g.generateSample(request, 2, SongGenerator.Listener.NONE);   // one sample alone, = songs.get(2)
        System.out.println("parity " + (o.passed() ? "PASS" : "FAIL") + "; wrote out.flac, "
                + songs.get(0).audio().durationSeconds() + " s; sample 2 again: " + third.audio().durationSeconds() + " s");
    }
}
