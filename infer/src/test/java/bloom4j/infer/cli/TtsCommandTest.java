package bloom4j.infer.cli;

import bloom4j.models.zipvoice.TinyZipVoice;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.cli.Captured;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bloom4j tts} on a tiny random ZipVoice and Vocos made here, for Japanese, Chinese and English text. */
class TtsCommandTest {
    @TempDir static Path tmp;
    static Path model, distill, vocoder, prompt;

    @BeforeAll static void make() throws Exception {
        model = TinyZipVoice.writeModel(tmp.resolve("zipvoice"), 1, false);
        distill = TinyZipVoice.writeModel(tmp.resolve("zipvoice-distill"), 2, true);
        vocoder = TinyZipVoice.writeVocoder(tmp.resolve("vocos"), 3);
        // 1.5 s of a 220 Hz tone at 16 kHz between 0.3 s silences: resampled, its edge silences trimmed to 100 ms
        int rate = 16000;
        float[] x = new float[(int) (2.1 * rate)];
        for (int i = (int) (0.3 * rate); i < (int) (1.8 * rate); i++) x[i] = (float) (0.05 * Math.sin(2 * Math.PI * 220 * i / rate));
        prompt = tmp.resolve("prompt.wav");
        AudioIO.write(prompt, Audio.mono(x, rate));
    }

    static Captured tts(Path m, String lang, String promptText, String text, Path out, String... extra) {
        String[] base = {"tts", "--model", m.toString(), "--vocoder", vocoder.toString(), "--prompt-wav", prompt.toString(),
                "--prompt-text", promptText, "--text", text, "--output", out.toString(), "--lang", lang, "--num-step", "2"};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return Captured.run(() -> InferMain.run(args));
    }

    static void assertSpeech(Captured r, Path out) throws Exception {
        assertEquals(0, r.exitCode(), r.output());
        Audio a = AudioIO.read(out);
        assertEquals(24000, a.sampleRate());
        assertEquals(1, a.channels());
        assertTrue(a.frames() > 2400, "frames " + a.frames() + "\n" + r.output());
    }

    @Test void japaneseChineseAndEnglish() throws Exception {
        Path ja = tmp.resolve("ja.wav"), zh = tmp.resolve("zh.flac"), en = tmp.resolve("en.wav");
        Captured r = tts(model, "auto", "こんにちは。", "さくらが、さいた。", ja);
        assertSpeech(r, ja);
        assertTrue(r.output().contains("(ja)"), r.output());
        r = tts(model, "auto", "你好。", "今天天气很好。", zh, "--output-format", "flac");
        assertSpeech(r, zh);
        assertTrue(r.output().contains("(zh/en)"), r.output());
        r = tts(model, "en", "Hello there.", "The weather is nice today.", en);
        assertSpeech(r, en);
        Path d = tmp.resolve("distill.wav");
        r = tts(distill, "auto", "Hello there.", "Good morning.", d);
        assertSpeech(r, d);
        assertTrue(r.output().contains("ZipVoice-Distill: 2 steps, guidance 3.00"), r.output());
    }

    @Test void sameSeedSameAudioAndUnreadWordsAreReported() throws Exception {
        Path a = tmp.resolve("a.wav"), b = tmp.resolve("b.wav"), c = tmp.resolve("c.wav");
        assertEquals(0, tts(model, "en", "Hello there.", "Good morning.", a).exitCode());
        assertEquals(0, tts(model, "en", "Hello there.", "Good morning.", b).exitCode());
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b)), "same seed, same file");
        Captured lossy = tts(model, "en", "Hello there.", "Good qzxvkwq morning.", c);
        assertEquals(1, lossy.exitCode(), lossy.output());
        assertTrue(lossy.output().contains("not read (not spoken): qzxvkwq"), lossy.output());
        assertTrue(Files.exists(c));
    }

    @Test void inputsAreCheckedBeforeTheModelLoads() throws Exception {
        Path tsv = tmp.resolve("list.tsv");
        Files.writeString(tsv, "one\tHello there.\tprompt.wav\tGood morning.\ntwo\tHello.\tmissing.wav\tHi.\n");
        Captured r = Captured.run(() -> InferMain.run("tts", "--model", model.toString(), "--vocoder", vocoder.toString(), "--input",
                tsv.toString(), "--output-dir", tmp.resolve("out").toString()));
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("line 2: field 3 (prompt wav): no such file"), r.output());
        Files.writeString(tsv, "one\tHello there.\tprompt.wav\tGood morning.\ntwo\tHello there.\tprompt.wav\tNice day.\n");
        Path out = tmp.resolve("out");
        r = Captured.run(() -> InferMain.run("tts", "--model", model.toString(), "--vocoder", vocoder.toString(), "--input",
                tsv.toString(), "--output-dir", out.toString(), "--num-step", "2"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(Files.exists(out.resolve("one.wav")) && Files.exists(out.resolve("two.wav")));
        Captured again = tts(model, "en", "Hello there.", "Good morning.", out.resolve("one.wav"));
        assertEquals(2, again.exitCode());
        assertTrue(again.output().contains("exists; pass --overwrite"), again.output());
        Captured noModel = Captured.run(() -> InferMain.run("tts", "--model", tmp.resolve("nope").toString(), "--vocoder",
                vocoder.toString(), "--prompt-wav", prompt.toString(), "--prompt-text", "a", "--text", "b", "--output",
                tmp.resolve("x.wav").toString()));
        assertEquals(1, noModel.exitCode());
        assertTrue(noModel.output().contains("does not exist"), noModel.output());
        assertFalse(Files.exists(tmp.resolve("x.wav")));
    }
}
