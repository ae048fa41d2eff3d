package bloom4j.infer.cli;

import bloom4j.models.songbloom.TinySongBloom;
import bloom4j.tensor.audio.Audio;
import bloom4j.tensor.audio.AudioFormat;
import bloom4j.tensor.audio.AudioIO;
import bloom4j.tensor.cli.Captured;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bloom4j generate} on a tiny random SongBloom model folder. */
class GenerateCommandTest {
    @TempDir static Path tmp;
    static Path model;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinySongBloom.write(tmp.resolve("songbloom"), 5);
        float[] x = new float[24000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / 24000.0));
        AudioIO.write(tmp.resolve("prompt.wav"), Audio.mono(x, 24000), AudioFormat.WAV_PCM16);
    }

    static Captured run(String jsonl, String... extra) throws Exception {
        return run(jsonl, tmp.resolve("out"), extra);
    }

    static Captured run(String jsonl, Path out, String... extra) throws Exception {
        Path in = tmp.resolve("in.jsonl");
        Files.writeString(in, jsonl);
        String[] base = {"generate", "--input-jsonl", in.toString(), "--model", model.toString(), "--output-dir", out.toString(),
                "--max-duration", "0.64", "--steps", "2"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return Captured.run(() -> InferMain.run(args));
    }

    @Test
    void writesOneFilePerSample() throws Exception {
        Captured r = run("{\"idx\": \"a\", \"lyrics\": \"[verse] n i3 h ao3 .\", \"prompt_wav\": \"prompt.wav\"}\n",
                "--n-samples", "2", "--output-format", "wav", "--seed", "3", "--top-k", "5", "--cfg", "2", "--temperature", "1", "--threads", "1");
        assertEquals(0, r.exitCode(), r.output());
        for (String s : new String[] {"a_s0.wav", "a_s1.wav"}) {
            Audio a = AudioIO.read(tmp.resolve("out").resolve(s));
            assertEquals(48000, a.sampleRate());
            assertEquals(2, a.channels());
            assertEquals(16 * 1920, a.frames(), "4 blocks of 4 frames at 1920 samples");
        }
        try (var files = Files.list(tmp.resolve("out"))) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }

    @Test
    void badInputNamesTheLineAndField() throws Exception {
        String ok = "{\"idx\": \"a\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"prompt.wav\"}\n";
        Captured missing = run(ok + "{\"idx\": \"b\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"nope.wav\"}\n");
        assertEquals(2, missing.exitCode());
        assertTrue(missing.output().contains("line 2: field 'prompt_wav': no such file"), missing.output());
        Captured empty = run("{\"idx\": \"a\", \"lyrics\": \"  \", \"prompt_wav\": \"prompt.wav\"}\n");
        assertTrue(empty.output().contains("line 1: field 'lyrics' is empty"), empty.output());
        Captured fmt = run(ok, "--output-format", "ogg");
        assertEquals(2, fmt.exitCode());
        assertTrue(fmt.output().contains("unknown format 'ogg'"), fmt.output());
        Path muq = tmp.resolve("muq");
        Files.createDirectories(muq);
        Files.copy(model.resolve("model.safetensors"), muq.resolve("model.safetensors"));
        Files.writeString(muq.resolve("config.json"), "{\"model_type\": \"muq\"}");
        Captured kind = Captured.run(() -> InferMain.run("generate", "--input-jsonl", tmp.resolve("in.jsonl").toString(), "--model",
                muq.toString(), "--output-dir", tmp.resolve("out2").toString()));
        assertEquals(1, kind.exitCode());
        assertTrue(kind.output().contains("model_type is 'muq', expected 'songbloom'"), kind.output());
    }

    @Test
    void fieldsAreStringsNeverCoerced() throws Exception {
        Captured num = run("{\"idx\": 5, \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"prompt.wav\"}\n");
        assertEquals(2, num.exitCode());
        assertTrue(num.output().contains("line 1: field 'idx' must be a string, got number 5"), num.output());
        Captured bool = run("{\"idx\": true, \"lyrics\": [\"a\"], \"prompt_wav\": 3}\n");
        assertTrue(bool.output().contains("field 'idx' must be a string, got boolean true"), bool.output());
        Captured list = run("{\"idx\": \"a\", \"lyrics\": [\"[verse] a1\"], \"prompt_wav\": \"prompt.wav\"}\n");
        assertTrue(list.output().contains("field 'lyrics' must be a string, got array"), list.output());
        Captured path = run("{\"idx\": \"a\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": 3}\n");
        assertTrue(path.output().contains("field 'prompt_wav' must be a string, got number 3"), path.output());
    }

    @Test
    void everyBadLineIsReportedAtOnceBeforeAnyWork() throws Exception {
        String ok = "{\"idx\": \"a\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"prompt.wav\"}\n";
        Files.createDirectories(tmp.resolve("adir"));
        Files.writeString(tmp.resolve("id3.wav"), "ID3 this is a text file");
        Captured r = run(ok + "{\"idx\": \"b\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"adir\"}\n" + "nonsense\n"
                + "{\"idx\": \"c\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"id3.wav\"}\n"
                + "{\"idx\": \"" + "x".repeat(201) + "\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"prompt.wav\"}\n");
        assertEquals(2, r.exitCode());
        assertTrue(r.output().contains("4 bad input lines"), r.output());
        assertTrue(r.output().contains("line 2: field 'prompt_wav': not a regular file"), r.output());
        assertTrue(r.output().contains("line 3: not a JSON object"), r.output());
        assertTrue(r.output().contains("line 4: field 'prompt_wav': ") && r.output().contains("id3.wav"), r.output());
        assertTrue(r.output().contains("line 5: field 'idx' is 201 characters"), r.output());
    }

    @Test
    void nonUtf8InputNamesTheLine() throws Exception {
        Path in = tmp.resolve("latin1.jsonl");
        byte[] ok = "{\"idx\": \"a\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"prompt.wav\"}\n".getBytes(
                java.nio.charset.StandardCharsets.UTF_8);
        byte[] bad = "{\"idx\": \"b\", \"lyrics\": \"caf\u00e9\", \"prompt_wav\": \"prompt.wav\"}\n".getBytes(
                java.nio.charset.StandardCharsets.ISO_8859_1);
        byte[] all = new byte[ok.length + bad.length];
        System.arraycopy(ok, 0, all, 0, ok.length);
        System.arraycopy(bad, 0, all, ok.length, bad.length);
        Files.write(in, all);
        Captured r = Captured.run(() -> InferMain.run("generate", "--input-jsonl", in.toString(), "--model", model.toString(),
                "--output-dir", tmp.resolve("out3").toString()));
        assertEquals(2, r.exitCode());
        assertTrue(r.output().contains("latin1.jsonl line 2: not valid UTF-8"), r.output());
    }

    @Test
    void badNumericOptionsBlameTheOption() throws Exception {
        String ok = "{\"idx\": \"a\", \"lyrics\": \"[verse] a1\", \"prompt_wav\": \"prompt.wav\"}\n";
        Captured r = run(ok, "--cfg", "NaN", "--top-k", "-1");
        assertEquals(2, r.exitCode());
        assertTrue(r.output().contains("--cfg must be finite, got NaN") && r.output().contains("--top-k must be >= 0"), r.output());
        assertTrue(!r.output().contains("line 1"), "an option error is not an input-line error: " + r.output());
    }

    static final String ONE = "{\"idx\": \"r\", \"lyrics\": \"[verse] n i3 .\", \"prompt_wav\": \"prompt.wav\"}\n";

    static Captured runInto(Path out, String... extra) throws Exception {
        String[] base = {"--output-format", "wav", "--threads", "1"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return run(ONE, out, all);
    }

    @Test
    void aRerunSkipsCompleteOutputsAndRefusesToReplaceDifferentOnes() throws Exception {
        Path out = tmp.resolve("rerun");
        Captured first = runInto(out, "--seed", "4");
        assertEquals(0, first.exitCode(), first.output());
        Path song = out.resolve("r_s0.wav");
        assertTrue(Files.exists(OutputFolder.sidecar(song)));
        byte[] before = Files.readAllBytes(song);
        long mtime = Files.getLastModifiedTime(song).toMillis();

        Captured again = runInto(out, "--seed", "4");
        assertEquals(0, again.exitCode(), again.output());
        assertTrue(again.output().contains("already complete"), again.output());
        assertEquals(mtime, Files.getLastModifiedTime(song).toMillis(), "a complete output is not rewritten");

        Captured other = runInto(out, "--seed", "5");
        assertEquals(2, other.exitCode(), other.output());
        assertTrue(other.output().contains("r_s0.wav was made with other parameters (seed 4 -> 5)"), other.output());
        assertTrue(other.output().contains("--overwrite"), other.output());
        assertArrayEquals(before, Files.readAllBytes(song), "refused: the old output is untouched");

        Captured forced = runInto(out, "--seed", "5", "--overwrite");
        assertEquals(0, forced.exitCode(), forced.output());
        assertTrue(Files.readString(OutputFolder.sidecar(song)).contains("\"seed\" : \"5\""));

        Files.write(song, new byte[] {1, 2, 3}); // changed by hand: no longer what its sidecar says
        Captured changed = runInto(out, "--seed", "5");
        assertEquals(2, changed.exitCode(), changed.output());
        assertTrue(changed.output().contains("does not match the checksum"), changed.output());
    }

    @Test
    void anOutputOfUnknownOriginIsNotOverwritten() throws Exception {
        Path out = tmp.resolve("foreign");
        Files.createDirectories(out);
        Files.writeString(out.resolve("r_s0.wav"), "mine");
        Captured r = runInto(out);
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("has no r_s0.wav.json"), r.output());
        assertEquals("mine", Files.readString(out.resolve("r_s0.wav")));
    }

    @Test
    void aSecondConcurrentRunOnTheSameFolderIsRefused() throws Exception {
        Path out = tmp.resolve("locked");
        try (OutputFolder held = OutputFolder.open(out)) {
            Captured r = runInto(out);
            assertEquals(1, r.exitCode(), r.output());
            assertTrue(r.output().contains("is in use by another bloom4j generate run"), r.output());
        }
        Captured after = runInto(out);
        assertEquals(0, after.exitCode(), after.output());
    }

    @Test
    void anOutputDirThatIsAFileIsRefusedBeforeLoading() throws Exception {
        Path file = tmp.resolve("afile");
        Files.writeString(file, "x");
        Captured r = runInto(file);
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("--output-dir " + file + " is a file, not a folder"), r.output());
    }

    @Test
    void leftoversOfAnInterruptedRunAreRemoved() throws Exception {
        Path out = tmp.resolve("interrupted");
        Files.createDirectories(out);
        long dead = 1L << 30;
        while (ProcessHandle.of(dead).isPresent()) dead++;
        Path partial = out.resolve(".r_s0.wav.partial-" + dead + "-zz");
        Path legacy = out.resolve(".r_s0.wav.8812763.partial");
        Files.write(partial, new byte[4096]);
        Files.write(legacy, new byte[4096]);
        Captured r = runInto(out);
        assertEquals(0, r.exitCode(), r.output());
        assertFalse(Files.exists(partial));
        assertFalse(Files.exists(legacy));
        assertTrue(r.output().contains("removed 2 partial file(s)"), r.output());
    }

    @Test
    void aDefaultThatDoesNotFitTheModelIsNotBlamedOnAnInputLine() throws Exception {
        Path noTopK = TinySongBloom.write(tmp.resolve("songbloom-no-topk"), 5);
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode cfg = (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(
                noTopK.resolve("config.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) cfg.get("upstream_config").get("inference")).remove("top_k");
        Files.writeString(noTopK.resolve("config.json"), om.writeValueAsString(cfg));
        Path in = tmp.resolve("in-topk.jsonl");
        Files.writeString(in, ONE);
        Captured r = Captured.run(() -> InferMain.run("generate", "--input-jsonl", in.toString(), "--model", noTopK.toString(),
                "--output-dir", tmp.resolve("out-topk").toString(), "--max-duration", "0.64", "--steps", "2"));
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("top_k 100 (the released default; " + noTopK.resolve("config.json")
                + " upstream_config has no inference.top_k) exceeds"), r.output());
        assertFalse(r.output().contains("line 1"), r.output());

        Captured fixed = Captured.run(() -> InferMain.run("generate", "--input-jsonl", in.toString(), "--model", noTopK.toString(),
                "--output-dir", tmp.resolve("out-topk").toString(), "--max-duration", "0.64", "--steps", "2", "--top-k", "4"));
        assertEquals(0, fixed.exitCode(), fixed.output());
    }

    @Test
    void japaneseLyricsArePhonemisedAndPrinted() throws Exception {
        Captured r = run("{\"idx\": \"ja\", \"lyrics\": \"[verse] さくらが さいた。やよいの そらは\", \"prompt_wav\": \"prompt.wav\"}\n",
                tmp.resolve("out-ja"), "--output-format", "wav");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("ja: phonemes (28 tokens): [verse] s a k u r a g a s a i t a . y a y o i n o s o r a w a"),
                r.output());
        assertTrue(Files.exists(tmp.resolve("out-ja/ja_s0.wav")));
    }

    @Test
    void aLyricThatWouldLoseWordsIsAnErrorUnlessAllowed() throws Exception {
        String line = "{\"idx\": \"en\", \"lyrics\": \"[verse] hello qzxvkw\", \"prompt_wav\": \"prompt.wav\"}\n";
        Captured r = run(line, tmp.resolve("out-en"));
        assertEquals(2, r.exitCode(), r.output());
        assertTrue(r.output().contains("line 1: field 'lyrics' would lose words: the G2P cannot read [qzxvkw]"), r.output());
        assertFalse(Files.exists(tmp.resolve("out-en/en_s0.flac")), "refused before any work");
        Captured allowed = run(line, tmp.resolve("out-en"), "--allow-lyric-loss");
        assertEquals(0, allowed.exitCode(), allowed.output());
    }

    @Test
    void lyricsPhonemesAreTakenAsTheyAre() throws Exception {
        Captured r = run("{\"idx\": \"p\", \"lyrics\": \"さくら\", \"lyrics_phonemes\": \"[verse] s a k u r a\", "
                + "\"prompt_wav\": \"prompt.wav\"}\n", tmp.resolve("out-p"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("p: phonemes (7 tokens): [verse] s a k u r a"), r.output());
    }

    @Test
    void chineseLyricsArePhonemisedLikeUpstream() throws Exception {
        Captured r = run("{\"idx\": \"zh\", \"lyrics\": \"[verse] 你好 . 我爱你\", \"prompt_wav\": \"prompt.wav\"}\n",
                tmp.resolve("out-zh"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("zh: phonemes (12 tokens): [verse] n i2 h ao3 . w o3 AA ai4 n i3"), r.output());
    }

    @Test
    void englishLyricsArePhonemisedLikeUpstream() throws Exception {
        Captured r = run("{\"idx\": \"en2\", \"lyrics\": \"[chorus] hello world\", \"prompt_wav\": \"prompt.wav\"}\n",
                tmp.resolve("out-en2"));
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("en2: phonemes (9 tokens): [chorus] HH AH0 L OW1 W ER1 L D"), r.output());
    }
}
