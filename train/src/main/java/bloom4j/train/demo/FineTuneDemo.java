package bloom4j.train.demo;

import bloom4j.models.songbloom.SongGenerator;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.train.cli.TrainMain;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The fine-tuning half of {@code bloom4j quickstart}, on a corpus it makes: four 2.2 s "songs" (tones and noise) with Japanese
 * lyrics and 1 s prompts, the tiny MuQ bloom4j ships (the muq-encoder fixture's weights) and the tiny SongBloom quickstart wrote.
 * Each stage runs the command a user types ({@code train-vq}, {@code cache}, {@code train}) and prints it; the last generates with
 * the trained run ({@code generate --lora RUN}). The weights are random: the point is that every stage of the workflow runs.
 */
public final class FineTuneDemo {
    static final String[] LYRICS = {"[verse] さくら さくら やよいの そらは", "[verse] みわたす かぎり かすみか くもか",
            "[chorus] においぞ いずる いざや いざや", "[chorus] みにゆかん"};
    static final String MUQ_RESOURCE = "/bloom4j/train/demo/muq-tiny/";

    private FineTuneDemo() {}

    /** One stage: what it does, and the work (output folder, the SongBloom model folder, the log). */
    public interface Action {
        boolean run(Path out, Path model, PrintStream log) throws Exception;
    }

    public record Stage(String title, Action action) { }

    /** The stages, in order. */
    public static List<Stage> stages() {
        return List.of(
                new Stage("make a tiny Japanese corpus (4 songs of 2.2 s with lyrics and prompts) and train a 16-code sketch codebook",
                        FineTuneDemo::corpusAndCodebook),
                new Stage("cache VAE latents, sketch ids and prompt latents per song", FineTuneDemo::cache),
                new Stage("fine-tune the tiny SongBloom with LoRA (6 steps, validation every 3, checkpoints)", FineTuneDemo::train),
                new Stage("generate with the fine-tuned run (generate --lora RUN)", FineTuneDemo::generate));
    }

    /** What to try next, printed in the quickstart summary. */
    public static List<String> next(Path out) {
        Path run = out.resolve("finetune/run");
        return List.of("  fine-tuning: " + run + " holds adapter/, last/, best-1/, metrics.jsonl and loss.png; continue it with",
                "  ./bloom4j train " + String.join(" ", trainArgs(out, 12)) + " --resume-from " + run.resolve("last"));
    }

    private static Path dir(Path out) { return out.resolve("finetune"); }

    static boolean corpusAndCodebook(Path out, Path model, PrintStream log) throws Exception {
        Path d = dir(out), audio = d.resolve("audio"), prompts = d.resolve("prompts");
        Files.createDirectories(audio);
        Files.createDirectories(prompts);
        StringBuilder jsonl = new StringBuilder();
        ObjectMapper om = new ObjectMapper();
        for (int i = 0; i < LYRICS.length; i++) {
            Path song = audio.resolve("song" + i + ".wav"), prompt = prompts.resolve("song" + i + ".wav");
            AudioIO.write(song, tones(2.2, 40 + i), AudioFormat.WAV_PCM16);
            AudioIO.write(prompt, tones(1.0, 80 + i), AudioFormat.WAV_PCM16);
            jsonl.append(om.createObjectNode().put("idx", "song" + i).put("audio_path", d.relativize(song).toString())
                    .put("lyrics", LYRICS[i]).put("prompt_wav", d.relativize(prompt).toString())).append('\n');
        }
        Files.writeString(d.resolve("songs.jsonl"), jsonl.toString());
        log.println("   wrote " + d.resolve("songs.jsonl") + " (" + LYRICS.length + " songs; lyrics in Japanese, phonemised at training)");
        Path muq = muq(d);
        return cli(log, "train-vq", "--data-dir", audio.toString(), "--muq", muq.toString(), "--codebook-size", "16", "--epochs", "2",
                "--batch-frames", "64", "--model", model.toString(), "--output", d.resolve("codebook.safetensors").toString());
    }

    static boolean cache(Path out, Path model, PrintStream log) throws Exception {
        Path d = dir(out);
        return cli(log, "cache", "--data", d.resolve("songs.jsonl").toString(), "--model", model.toString(), "--muq", muq(d).toString(),
                "--codebook", d.resolve("codebook.safetensors").toString(), "--out", d.resolve("cache").toString());
    }

    static boolean train(Path out, Path model, PrintStream log) throws Exception {
        List<String> args = new ArrayList<>(List.of("train"));
        args.addAll(trainArgs(out, 6));
        return cli(log, args.toArray(new String[0])) && Files.isRegularFile(dir(out).resolve("run/adapter/adapter_model.safetensors"));
    }

    /** The demo's train options, running to {@code steps} optimizer steps. */
    private static List<String> trainArgs(Path out, int steps) {
        Path d = dir(out);
        return List.of("--model", out.resolve("songbloom").toString(), "--train", d.resolve("songs.jsonl").toString(), "--val-ratio", "0.25",
                "--cache", d.resolve("cache").toString(), "--out", d.resolve("run").toString(), "--rank", "4", "--alpha", "8",
                "--max-duration", "1.28", "--max-steps", String.valueOf(steps), "--val-every-steps", "3", "--lr", "1e-3");
    }

    static boolean generate(Path out, Path model, PrintStream log) throws Exception {
        Path run = dir(out).resolve("run");
        log.println("   $ ./bloom4j generate --model " + model + " --lora " + run + " --input-jsonl " + out.resolve("request.jsonl")
                + " --output-dir " + out.resolve("songs-finetuned") + " --max-duration 1.28 --output-format wav   (through the Java API here)");
        SongGenerator g = SongGenerator.load(model, SongGenerator.Options.defaults().withLora(run));
        SongGenerator.Request req = SongGenerator.Request.of(LYRICS[0], out.resolve("prompt.wav")).withSeed(1).withMaxDuration(1.28);
        Audio a = g.generate(req, SongGenerator.Listener.NONE).get(0).audio();
        Path song = out.resolve("song-finetuned.wav");
        AudioIO.write(song, a, AudioFormat.WAV_PCM16);
        log.printf(Locale.ROOT, "   %.2f s with the adapter (rank, alpha, targets from %s) and the trained lyric rows -> %s%n",
                a.frames() / (double) a.sampleRate(), run.resolve("adapter/adapter_config.json"), song);
        return a.frames() > 0 && Float.isFinite(a.peak());
    }

    /** Runs a command as {@code ./bloom4j ARGS} would, its output in {@code log}. */
    static boolean cli(PrintStream log, String... args) {
        log.println("   $ ./bloom4j " + String.join(" ", args));
        PrintStream out = System.out, err = System.err;
        try {
            System.setOut(log);
            System.setErr(log);
            return TrainMain.run(args) == 0;
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static Path muq(Path d) throws IOException {
        Path m = d.resolve("muq-tiny");
        if (Files.isRegularFile(m.resolve("model.safetensors"))) return m.resolve("model.safetensors");
        Files.createDirectories(m);
        for (String f : List.of("model.safetensors", "config.json")) {
            try (InputStream in = FineTuneDemo.class.getResourceAsStream(MUQ_RESOURCE + f)) {
                if (in == null) throw new IOException("the bundled tiny MuQ file " + MUQ_RESOURCE + f + " is missing from the classpath");
                Files.copy(in, m.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return m.resolve("model.safetensors");
    }

    /** A stereo "song" at 48 kHz: a few tones and noise, different per seed. */
    static Audio tones(double seconds, long seed) {
        int sr = 48000, n = (int) Math.round(seconds * sr);
        SplittableRandom r = new SplittableRandom(seed);
        double f0 = 150 + 300 * r.nextDouble(), f1 = f0 * 1.5;
        float[][] x = new float[2][n];
        for (int i = 0; i < n; i++) {
            double t = (double) i / sr, env = Math.min(1, Math.min(t, seconds - t) * 20);
            double v = 0.25 * env * (Math.sin(2 * Math.PI * f0 * t) + 0.4 * Math.sin(2 * Math.PI * f1 * t)) + 0.01 * r.nextGaussian();
            x[0][i] = (float) v;
            x[1][i] = (float) (0.9 * v);
        }
        return Audio.of(x, sr);
    }
}
