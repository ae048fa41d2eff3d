package bloom4j.infer.tts;

import bloom4j.infer.Quickstart;
import bloom4j.models.zipvoice.TinyZipVoice;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioIO;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The quickstart's TTS stage: a tiny random ZipVoice and Vocos ({@link TinyZipVoice}), a synthetic prompt, and {@link Tts} speaking a
 * Japanese line through the whole pipeline (G2P, chunking, sampler with CFG, vocoder, silence trimming). Random weights: noise, not
 * speech; the point is that every step runs.
 */
public final class TtsDemo implements Quickstart.Stage {
    static final String PROMPT_TEXT = "こんにちは。", TEXT = "さくらが、さきました。";

    @Override public String title() { return "speak a Japanese line with a tiny random ZipVoice + Vocos (the real TTS pipeline)"; }

    @Override public boolean run(Path out, Path songModel, PrintStream log) throws Exception {
        Path model = TinyZipVoice.writeModel(out.resolve("zipvoice"), 7, false);
        Path vocoder = TinyZipVoice.writeVocoder(out.resolve("vocos"), 8);
        Path prompt = out.resolve("tts-prompt.wav");
        AudioIO.write(prompt, Audio.mono(tone(), Tts.SAMPLE_RATE));
        Tts tts = Tts.load(model, vocoder);
        long t0 = System.nanoTime();
        Tts.Options o = Tts.Options.defaults(false).withSampler(new bloom4j.models.zipvoice.ZipVoiceModel.SamplerOptions(4, 1f, 0.5f, 1f));
        Tts.Result r = tts.synthesize(new Tts.Request(AudioIO.read(prompt), PROMPT_TEXT, TEXT), o, null);
        Path speech = out.resolve("speech.wav");
        AudioIO.write(speech, Audio.mono(r.audio(), Tts.SAMPLE_RATE));
        log.printf(Locale.ROOT, "   tokens (%s): %s%n", r.report().language(), String.join(" ", r.report().textTokens()));
        log.printf(Locale.ROOT, "   wrote %s: %.2f s at 24 kHz in %.1f s (4 steps, CFG)%n", speech, r.seconds(), (System.nanoTime() - t0) / 1e9);
        return r.audio().length > 0 && !r.report().lossy();
    }

    @Override public List<String> next(Path out) {
        return List.of("  speak again (or another text) with the tiny ZipVoice:",
                "  ./bloom4j tts --model " + out.resolve("zipvoice") + " --vocoder " + out.resolve("vocos") + " --prompt-wav "
                        + out.resolve("tts-prompt.wav") + " --prompt-text '" + PROMPT_TEXT + "' --text 'おはようございます。' --output "
                        + out.resolve("speech2.wav"));
    }

    /** 1.5 s of a gliding tone, a voice-like prompt. */
    static float[] tone() {
        float[] x = new float[(int) (1.5 * Tts.SAMPLE_RATE)];
        double ph = 0;
        for (int i = 0; i < x.length; i++) {
            ph += 2 * Math.PI * (180 + 60 * i / (double) x.length) / Tts.SAMPLE_RATE;
            x[i] = (float) (0.1 * Math.sin(ph));
        }
        return x;
    }
}
