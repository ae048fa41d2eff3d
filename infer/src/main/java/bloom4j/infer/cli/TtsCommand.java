package bloom4j.infer.cli;

import bloom4j.infer.tts.Tts;
import bloom4j.models.zipvoice.ZipVoiceModel;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.util.Progress;
import bloom4j.text.zipvoice.ZipVoiceTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code bloom4j tts}: zero-shot speech with ZipVoice or ZipVoice-Distill and Vocos. */
@Command(name = "tts", mixinStandardHelpOptions = true,
        description = {"Speak a text in the voice of a short prompt recording with ZipVoice (or ZipVoice-Distill) and Vocos.",
                "One utterance (--prompt-wav, --prompt-text, --text, --output) or a list (--input TSV: name<TAB>prompt text<TAB>prompt "
                        + "wav<TAB>text per line, upstream's --test-list format, with --output-dir).",
                "Japanese (kana, or --lang ja), Chinese and English; see README 'ZipVoice'."})
final class TtsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "ZipVoice folder: model.json, tokens.txt, model.pt or model.safetensors")
    Path model;
    @Option(names = "--vocoder", required = true, paramLabel = "DIR", description = "Vocos folder: pytorch_model.bin or model.safetensors (+ config.yaml)")
    Path vocoder;

    static final class Single {
        @Option(names = "--prompt-wav", required = true, paramLabel = "FILE", description = "the voice to imitate (1-3 s is best)") Path promptWav;
        @Option(names = "--prompt-text", required = true, paramLabel = "TEXT", description = "what the prompt recording says") String promptText;
        @Option(names = "--text", required = true, paramLabel = "TEXT", description = "what to say") String text;
        @Option(names = "--output", required = true, paramLabel = "FILE", description = "the audio file to write (24 kHz mono)") Path output;
    }

    static final class Batch {
        @Option(names = "--input", required = true, paramLabel = "TSV", description = "name<TAB>prompt text<TAB>prompt wav<TAB>text per line") Path input;
        @Option(names = "--output-dir", required = true, paramLabel = "DIR", description = "one <name>.<format> per line") Path outputDir;
    }

    static final class Mode {
        @ArgGroup(exclusive = false) Single single;
        @ArgGroup(exclusive = false) Batch batch;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Mode mode;
    @Option(names = "--num-step", paramLabel = "N", description = "Euler steps (default 16; Distill 8)") Integer numStep;
    @Option(names = "--guidance-scale", paramLabel = "G", description = "classifier-free guidance (default 1.0; Distill 3.0)") Float guidance;
    @Option(names = "--t-shift", defaultValue = "0.5", paramLabel = "S", description = "time-grid shift in (0, 1] (default 0.5)") float tShift;
    @Option(names = "--speed", defaultValue = "1.0", paramLabel = "X", description = "speaking rate (default 1.0; 0.3-0.5 helps very short texts)") float speed;
    @Option(names = "--seed", defaultValue = "666", description = "noise seed (default 666, upstream's)") long seed;
    @Option(names = "--lang", defaultValue = "auto", description = "auto (kana -> Japanese, else Chinese/English by script; default), ja, zh or en") String lang;
    @Option(names = "--devoice", description = "Japanese: devoiced vowels as OpenJTalk writes them (only if the model was trained so)") boolean devoice;
    @Option(names = "--remove-long-silence", description = "also shorten silences over 1 s inside the result (default: edges only)") boolean removeLongSilence;
    @Option(names = "--output-format", defaultValue = "wav", description = "wav (default), flac or mp3") String format;
    @Option(names = "--overwrite", description = "replace existing output files") boolean overwrite;

    record Item(int line, String name, String promptText, Path promptWav, String text, Path output) { }

    @Override public Integer call() throws Exception {
        AudioFormat fmt = GenerateCommand.parseFormat(format);
        ZipVoiceTokenizer.Lang l = ZipVoiceTokenizer.Lang.parse(lang);
        List<Item> items = items(fmt);
        // Everything checkable is checked before the model loads: files, options, texts.
        ZipVoiceModel.Files.of(model);
        if (!Files.isDirectory(vocoder)) throw new IllegalArgumentException("--vocoder " + vocoder + ": no such folder");
        List<Audio> prompts = new ArrayList<>();
        for (Item it : items) {
            try {
                prompts.add(AudioIO.read(it.promptWav()));
            } catch (IOException e) {
                throw new IllegalArgumentException(where(it) + "prompt wav: " + e.getMessage(), e);
            }
        }
        Tts tts = Tts.load(model, vocoder);
        boolean distill = tts.model().config().distill();
        ZipVoiceModel.SamplerOptions d = ZipVoiceModel.SamplerOptions.defaults(distill);
        Tts.Options o = new Tts.Options(l, devoice, new ZipVoiceModel.SamplerOptions(numStep != null ? numStep : d.numStep(),
                guidance != null ? guidance : d.guidanceScale(), tShift, speed), seed, removeLongSilence);
        System.out.printf(Locale.ROOT, "%s: %d steps, guidance %.2f, t-shift %.2f, speed %.2f, seed %d%n", distill ? "ZipVoice-Distill" : "ZipVoice",
                o.sampler().numStep(), o.sampler().guidanceScale(), tShift, speed, seed);
        int lossy = 0;
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            Tts.Request req = new Tts.Request(prompts.get(i), it.promptText(), it.text());
            Tts.Result r;
            Progress[] p = {null};
            try {
                r = tts.synthesize(req, o, new Tts.Listener() {
                    @Override public void started(int chunks) { p[0] = Progress.start(it.name(), chunks, "chunks"); }

                    @Override public void chunk(int index, int total, float[] audio) { p[0].set(index + 1); }
                });
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where(it) + e.getMessage(), e);
            } finally {
                if (p[0] != null) p[0].close();
            }
            AudioIO.write(it.output(), Audio.mono(r.audio(), Tts.SAMPLE_RATE), fmt);
            Tts.Report rep = r.report();
            System.out.printf(Locale.ROOT, "%s: %.2f s from %d text tokens (%s) in %d chunk(s)%n", it.output(), r.seconds(),
                    rep.textTokens().size(), rep.language(), rep.chunks());
            if (rep.lossy()) {
                lossy++;
                for (Map.Entry<String, Integer> e : rep.unreadWords().entrySet()) {
                    System.out.println("  warning: not read (not spoken): " + e.getKey() + " ×" + e.getValue());
                }
                for (Map.Entry<String, Integer> e : rep.unknownTokens().entrySet()) {
                    System.out.println("  warning: token '" + e.getKey() + "' is not in the model's tokens.txt (not spoken) ×" + e.getValue());
                }
            }
        }
        return lossy == 0 ? 0 : 1;
    }

    private static String where(Item it) { return it.line() > 0 ? "line " + it.line() + " (" + it.name() + "): " : ""; }

    private List<Item> items(AudioFormat fmt) throws IOException {
        List<Item> out = new ArrayList<>();
        if (mode.single != null) {
            Single s = mode.single;
            requireText("--text", s.text);
            requireText("--prompt-text", s.promptText);
            if (!Files.isRegularFile(s.promptWav)) throw new IllegalArgumentException("--prompt-wav " + s.promptWav + ": no such file");
            checkTarget(s.output, "--output");
            out.add(new Item(0, s.output.getFileName().toString(), s.promptText, s.promptWav, s.text, s.output));
            return out;
        }
        Batch b = mode.batch;
        if (!Files.isRegularFile(b.input)) throw new IllegalArgumentException("--input " + b.input + ": no such file");
        List<String> lines = Files.readAllLines(b.input, StandardCharsets.UTF_8);
        Set<String> names = new HashSet<>();
        String ext = switch (fmt) {
            case FLAC -> ".flac";
            case MP3 -> ".mp3";
            default -> ".wav";
        };
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t", -1);
            String at = b.input + " line " + (n + 1) + ": ";
            if (f.length != 4) {
                throw new IllegalArgumentException(at + "expected 4 tab-separated fields (name, prompt text, prompt wav, text), got " + f.length);
            }
            String name = f[0].strip();
            if (name.isEmpty() || !name.matches("[\\p{L}\\p{N}_.\\-]+")) throw new IllegalArgumentException(at + "field 1 (name) must be a plain file name, got '" + f[0] + "'");
            if (!names.add(name)) throw new IllegalArgumentException(at + "name '" + name + "' repeats an earlier line");
            if (f[1].isBlank()) throw new IllegalArgumentException(at + "field 2 (prompt text) is empty");
            if (f[3].isBlank()) throw new IllegalArgumentException(at + "field 4 (text) is empty");
            Path wav = b.input.toAbsolutePath().getParent().resolve(f[2].strip());
            if (!Files.isRegularFile(wav)) throw new IllegalArgumentException(at + "field 3 (prompt wav): no such file " + wav);
            Path target = b.outputDir.resolve(name + ext);
            checkTarget(target, at + "output");
            out.add(new Item(n + 1, name, f[1], wav, f[3], target));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("--input " + b.input + ": no lines to speak");
        Files.createDirectories(b.outputDir);
        return out;
    }

    private void checkTarget(Path target, String what) {
        if (Files.exists(target) && !overwrite) throw new IllegalArgumentException(what + " " + target + " exists; pass --overwrite to replace it");
    }

    private static void requireText(String opt, String v) {
        if (v == null || v.isBlank()) throw new IllegalArgumentException(opt + " is empty");
    }
}
