package bloom4j.infer;

import bloom4j.convert.ConvertOptions;
import bloom4j.convert.ConvertResult;
import bloom4j.convert.Converter;
import bloom4j.convert.Inspection;
import bloom4j.convert.Inspector;
import bloom4j.models.songbloom.SongGenerator;
import bloom4j.models.songbloom.TinySongBloom;
import bloom4j.tensor.DType;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityRunner;
import bloom4j.tensor.util.AtomicFiles;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The embedded end-to-end demo behind {@code bloom4j quickstart}: everything it uses ships inside bloom4j, nothing is downloaded.
 * Today it takes the bundled tiny PyTorch checkpoint (written by {@code torch.save}, with SongBloom's release parameter names),
 * inspects it, converts it into a bloom4j model folder, reloads the folder and checks it bit for bit against the checkpoint, then
 * runs the checkpoint-format parity fixture (every tensor of .pt/.ckpt files against PyTorch's own values); last it writes a tiny
 * random SongBloom model folder and generates a short song from a synthetic prompt and a lyric (the real generation loop).
 */
public final class Quickstart {
    private static final String MARKER = ".bloom4j-quickstart";
    /** The demo request, as a {@code generate} input line. */
    static final String REQUEST = "request.jsonl";

    private Quickstart() {}

    /**
     * A stage another module adds after the five of this demo (the fine-tuning stages live with the trainer): it gets the output
     * folder and the tiny SongBloom model folder stage 5 wrote, says what it does, and may add next-step lines to the summary.
     */
    public interface Stage {
        String title();

        boolean run(Path out, Path model, PrintStream log) throws Exception;

        default List<String> next(Path out) { return List.of(); }
    }

    /** Runs the demo in {@code out} (created; a previous quickstart output there is replaced). Returns true when all checks pass. */
    public static boolean run(Path out, PrintStream log) throws Exception { return run(out, log, List.of()); }

    /** The demo, then {@code extra} stages (numbered after the five of its own). */
    public static boolean run(Path out, PrintStream log, List<Stage> extra) throws Exception {
        prepare(out);
        int n = 5 + extra.size();
        Path fixture = Fixture.unpackBundled("pt-formats", out.resolve("fixture"));
        Path checkpoint = fixture.resolve("model.pt");

        log.println("== 1/" + n + " inspect the bundled PyTorch checkpoint " + checkpoint);
        Inspection in = Inspector.inspect(checkpoint);
        in.tensors().forEach(t -> log.println("   " + t));
        log.printf(Locale.ROOT, "   %d tensors, %d elements; looks like: %s%n", in.tensors().size(), in.totalElements(), in.kind().id());

        log.println("== 2/" + n + " convert it into a bloom4j model folder (a format demo: these few weights are not a whole SongBloom)");
        Path model = out.resolve("converted");
        ConvertResult r = Converter.convert(new ConvertOptions(List.of(checkpoint), model, null, DType.F32, null,
                ConvertOptions.DEFAULT_SHARD_BYTES), false);
        log.println("   wrote " + r.folder() + " " + r.weightFiles().stream().map(p -> p.getFileName().toString()).toList()
                + " + config.json + provenance.json");

        log.println("== 3/" + n + " reload the converted folder and compare bit for bit with the checkpoint");
        boolean same = sameTensors(checkpoint, model, log);

        log.println("== 4/" + n + " parity of bloom4j's checkpoint reader against PyTorch (fixture pt-formats)");
        ParityRunner.Outcome parity = ParityRunner.run(fixture, log);

        log.println("== 5/" + n + " generate a short song with a tiny random SongBloom (AR + DiT + VAE, the real generation loop)");
        boolean song = generateSong(out, log);

        boolean ok = same && parity.passed() && song;
        for (int i = 0; i < extra.size() && ok; i++) {
            log.println("== " + (6 + i) + "/" + n + " " + extra.get(i).title());
            ok = extra.get(i).run(out, out.resolve("songbloom"), log);
        }
        log.println("quickstart: " + (ok ? "OK" : "FAILED") + " (output in " + out.toAbsolutePath() + ")");
        if (ok) {
            Path abs = out.toAbsolutePath();
            log.println("next: " + abs.resolve("songbloom") + " is a model folder 'generate' takes (" + abs.resolve("converted")
                    + " is not: it holds only the demo checkpoint's tensors). Generate again from the request quickstart wrote:");
            log.println("  ./bloom4j generate --model " + abs.resolve("songbloom") + " --input-jsonl " + abs.resolve(REQUEST)
                    + " --output-dir " + abs.resolve("songs") + " --max-duration 1.28 --output-format wav");
            for (Stage st : extra) st.next(abs).forEach(log::println);
            log.println("  for a real model: ./bloom4j convert --from songbloom_full_150s.pt --config songbloom_full_150s.yaml "
                    + "--to songbloom-150s (see README)");
        }
        return ok;
    }

    /** Lyric of the demo song (G2P phonemes and structure tags, SongBloom's input format). */
    static final String LYRICS = "[intro] [verse] n i3 h ao3 . w o3 ai4 n i3 , [chorus] HH AH0 L OW1 . W ER1 L D";

    /**
     * Writes a tiny random SongBloom model folder and a 2 s two-tone prompt, generates 1.28 s (8 blocks) with {@link SongGenerator}
     * and writes a playable wav. The weights are random, so the song is noise; the point is that every stage runs.
     */
    private static boolean generateSong(Path out, PrintStream log) throws IOException {
        long t0 = System.nanoTime();
        Path model = TinySongBloom.write(out.resolve("songbloom"), 1234);
        log.println("   wrote a tiny SongBloom model folder " + model + " (random weights, 48 kHz VAE at 25 latent frames/s)");
        int sr = 48000, n = 2 * sr;
        float[][] tones = new float[2][n];
        for (int i = 0; i < n; i++) {
            double t = (double) i / sr, env = Math.min(1, Math.min(t, 2 - t) * 20);
            tones[0][i] = (float) (0.25 * env * (Math.sin(2 * Math.PI * 220 * t) + 0.5 * Math.sin(2 * Math.PI * 330 * t)));
            tones[1][i] = (float) (0.25 * env * (Math.sin(2 * Math.PI * 277.2 * t) + 0.5 * Math.sin(2 * Math.PI * 440 * t)));
        }
        Path prompt = out.resolve("prompt.wav");
        AudioIO.write(prompt, Audio.of(tones, sr), AudioFormat.WAV_PCM16);
        log.println("   prompt " + prompt + " (2 s of tones); lyrics: " + LYRICS);
        AtomicFiles.writeString(out.resolve(REQUEST), new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
                .put("idx", "quickstart").put("lyrics", LYRICS).put("prompt_wav", "prompt.wav") + "\n");
        SongGenerator g = SongGenerator.load(model);
        SongGenerator.Request req = SongGenerator.Request.of(LYRICS, prompt).withSeed(1).withMaxDuration(1.28);
        int max = g.maxBlocks(req);
        int[] blocks = new int[1];
        List<SongGenerator.Song> songs = g.generate(req, e -> {
            if (e.kept()) blocks[0]++;
        });
        Audio a = songs.get(0).audio();
        Path song = out.resolve("song.wav");
        AudioIO.write(song, a, AudioFormat.WAV_PCM16);
        double secs = a.frames() / (double) a.sampleRate();
        log.printf(Locale.ROOT, "   %d of at most %d blocks, %.2f s stereo at %d Hz, peak %.3f -> %s (%.1f s)%n", blocks[0], max, secs,
                a.sampleRate(), a.peak(), song, (System.nanoTime() - t0) / 1e9);
        return blocks[0] > 0 && a.frames() > 0 && Float.isFinite(a.peak());
    }

    private static boolean sameTensors(Path checkpoint, Path model, PrintStream log) throws IOException {
        int differing = 0;
        try (TensorSource a = Checkpoints.open(checkpoint); TensorSource b = Checkpoints.open(model)) {
            if (!new java.util.TreeSet<>(a.names()).equals(new java.util.TreeSet<>(b.names()))) {
                log.println("   names differ: " + a.names() + " vs " + b.names());
                return false;
            }
            for (String n : a.names()) {
                if (!a.raw(n).bytes().equals(b.raw(n).bytes()) || !a.info(n).equals(b.info(n))) {
                    log.println("   DIFFERENT: " + n);
                    differing++;
                }
            }
            log.println("   " + a.names().size() + " tensors, " + (differing == 0 ? "all identical" : differing + " different"));
        }
        return differing == 0;
    }

    private static void prepare(Path out) throws IOException {
        if (Files.exists(out)) {
            boolean ours = Files.exists(out.resolve(MARKER));
            boolean empty;
            try (var s = Files.list(out)) {
                empty = s.findAny().isEmpty();
            }
            if (!ours && !empty) {
                throw new IOException(out + " exists and was not made by quickstart; choose another --out folder");
            }
            AtomicFiles.deleteTree(out);
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve(MARKER), "made by bloom4j quickstart; safe to delete\n");
    }
}
