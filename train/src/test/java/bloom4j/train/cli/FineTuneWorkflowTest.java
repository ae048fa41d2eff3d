package bloom4j.train.cli;

import bloom4j.models.songbloom.TinySongBloom;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.train.sketch.TestAudio;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The SongBloom fine-tuning workflow on a synthetic corpus: {@code train-vq} → {@code cache} → {@code train} (LoRA, validation,
 * checkpoints) with the tiny SongBloom and the tiny MuQ; and resume: 6 steps in one run equal 3 steps, a resume, and 3 more, bit for
 * bit in the adapters, the trained tables and the AdamW moments.
 */
class FineTuneWorkflowTest {
    @TempDir static Path tmp;
    static Path model, jsonl, codebook, cache;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll static void corpus() throws Exception {
        model = TinySongBloom.write(tmp.resolve("songbloom"), 7);
        Path audio = tmp.resolve("audio");
        StringBuilder lines = new StringBuilder();
        String[] lyrics = {"[verse] s a k u r a . s a k u r a", "[verse] y a y o i n o . s o r a w a", "[chorus] m i w a t a s u . k a g i r i",
                "[verse] k a s u m i k a . k u m o k a"};
        for (int i = 0; i < 4; i++) {
            Path song = TestAudio.wav(audio.resolve("song" + i + ".wav"), 2.2, 48_000, 10 + i);
            Path prompt = TestAudio.wav(tmp.resolve("prompts/p" + i + ".wav"), 1.0, 48_000, 20 + i);
            lines.append(JSON.createObjectNode().put("idx", "s" + i).put("audio_path", song.toString()).put("lyrics", "さくら")
                    .put("prompt_wav", prompt.toString()).put("lyrics_phonemes", lyrics[i])).append('\n');
        }
        jsonl = Files.writeString(tmp.resolve("songs.jsonl"), lines.toString());
        codebook = tmp.resolve("codebook.safetensors");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, TrainMainTest.run(out, "train-vq", "--data-dir", audio.toString(), "--output", codebook.toString(), "--muq",
                TestAudio.tinyMuq().toString(), "--codebook-size", "16", "--epochs", "2", "--batch-frames", "64", "--model", model.toString()),
                out.toString());
        cache = tmp.resolve("cache");
        out.reset();
        assertEquals(0, TrainMainTest.run(out, "cache", "--data", jsonl.toString(), "--model", model.toString(), "--muq",
                TestAudio.tinyMuq().toString(), "--codebook", codebook.toString(), "--out", cache.toString()), out.toString());
        assertTrue(out.toString().contains("4 song(s) written"), out.toString());
        out.reset();
        assertEquals(0, TrainMainTest.run(out, "cache", "--data", jsonl.toString(), "--model", model.toString(), "--muq",
                TestAudio.tinyMuq().toString(), "--codebook", codebook.toString(), "--out", cache.toString()), out.toString());
        assertTrue(out.toString().contains("0 song(s) written, 4 already cached"), out.toString());
    }

    static String train(Path run, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--train", jsonl.toString(), "--val-ratio", "0.25",
                "--cache", cache.toString(), "--out", run.toString(), "--rank", "4", "--alpha", "8", "--max-steps", "6",
                "--val-every-steps", "3", "--max-duration", "1.28", "--lr", "1e-3", "--warmup-steps", "2", "--threads", "1"));
        a.addAll(List.of(extra));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = TrainMainTest.run(out, a.toArray(new String[0]));
        assertEquals(0, rc, out.toString());
        return out.toString();
    }

    @Test void trainsValidatesAndWritesTheRunFolder() throws Exception {
        Path run = tmp.resolve("run-a");
        String log = train(run);
        assertTrue(log.contains("step 6/6"), log);
        assertTrue(log.contains("validation at step 3"), log);
        for (String f : List.of("adapter/adapter_config.json", "adapter/adapter_model.safetensors", "adapter/trainable_extra.safetensors",
                "last/optimizer.safetensors", "last/state.json", "best-1/adapter_model.safetensors", "checkpoints/step-6/state.json",
                "checkpoints/step-3/state.json", "metrics.jsonl", "loss.png", "run.json", "train_split.jsonl", "val_split.jsonl")) {
            assertTrue(Files.exists(run.resolve(f)), f + "\n" + log);
        }
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(8, metrics.size(), String.join("\n", metrics));         // 6 steps + 2 validations
        JsonNode v = JSON.readTree(metrics.get(3));
        assertTrue(v.has("val/loss") && v.has("val/ar_top1") && v.has("val/ar_eos_ok"), v.toString());
        PeftAdapter a = PeftAdapter.read(run.resolve("adapter"));
        assertEquals(4, a.config().r());
        assertEquals(8, a.tensors().size());                                  // q/v × 2 layers × A/B
        try (TensorSource e = Checkpoints.open(run.resolve("adapter/trainable_extra.safetensors"))) {
            assertTrue(e.names().contains("model.condition_provider.conditioners.lyrics.output_proj.weight"), e.names().toString());
            assertTrue(e.names().contains("model.skeleton_emb.weight"), e.names().toString());
        }
        assertEquals(JSON.readTree(run.resolve("run.json").toFile()).path("hashes").path("base_sha256").asText(),
                Checkpoints.metadata(run.resolve("adapter/trainable_extra.safetensors")).get("base_sha256"));
        // the lyric table trains only the Japanese rows: a Mandarin row stays as it was
        try (TensorSource e = Checkpoints.open(run.resolve("adapter/trainable_extra.safetensors"));
             TensorSource base = Checkpoints.open(model)) {
            String k = "model.condition_provider.conditioners.lyrics.output_proj.weight";
            INDArray trained = e.load(k), orig = base.load(k);
            int zhRow = bloom4j.models.songbloom.LyricVocabulary.released().id("ao3");
            int jaRow = bloom4j.models.songbloom.LyricVocabulary.released().id("s");
            assertEquals(orig.getRow(zhRow), trained.getRow(zhRow));
            assertNotEquals(orig.getRow(jaRow), trained.getRow(jaRow));
        }
    }

    /** generate with the run: rank/alpha/targets from adapter_config.json, the trained tables, the base hash checked. */
    @Test void generatesWithTheRunAndRefusesAnotherBase() throws Exception {
        Path run = tmp.resolve("run-gen");
        train(run);
        bloom4j.models.songbloom.SongGenerator gen = bloom4j.models.songbloom.SongGenerator.load(model,
                bloom4j.models.songbloom.SongGenerator.Options.defaults().withLora(run));
        bloom4j.tensor.audio.Audio prompt = bloom4j.tensor.audio.AudioIO.read(tmp.resolve("prompts/p0.wav"));
        var songs = gen.generate(bloom4j.models.songbloom.SongGenerator.Request.of("[verse] s a k u r a", prompt).withSeed(3)
                .withMaxDuration(0.32), bloom4j.models.songbloom.SongGenerator.Listener.NONE);
        assertEquals(1, songs.size());
        assertTrue(songs.get(0).audio().frames() > 0);
        Path other = TinySongBloom.write(tmp.resolve("other-base"), 99);
        Exception e = assertThrows(Exception.class, () -> bloom4j.models.songbloom.SongGenerator.load(other,
                bloom4j.models.songbloom.SongGenerator.Options.defaults().withLora(run)));
        String base = JSON.readTree(run.resolve("run.json").toFile()).path("hashes").path("base_sha256").asText();
        assertTrue(e.getMessage().contains(base) && e.getMessage().contains("use the model folder the run was trained from"), e.getMessage());
    }

    /** A fork-style Lightning checkpoint (the songbloom-lora-step fixture's: PEFT r4 on the same 80-wide 2-layer AR) resumes a run. */
    @Test void resumesFromTheForksLightningCheckpoint() throws Exception {
        Path ckpt = bloom4j.tensor.parity.TestFixtures.dir("songbloom-lora-step").resolve("resume_lora_step1.ckpt");
        String log = train(tmp.resolve("run-fork"), "--lora-dropout", "0", "--resume-from", ckpt.toString());
        assertTrue(log.contains("resumed from " + ckpt + " at step 1") && log.contains("step 2/6") && !log.contains("step 1/6"), log);
        PeftAdapter a = PeftAdapter.read(tmp.resolve("run-fork/adapter"));
        assertEquals(8, a.tensors().size());
    }

    @Test void resumeIsBitExact() throws Exception {
        Path whole = tmp.resolve("run-whole"), parts = tmp.resolve("run-parts");
        train(whole);
        String first = train(parts, "--stop-after", "3");
        assertTrue(first.contains("stopped after 3 steps"), first);
        String second = train(parts, "--resume-from", parts.resolve("last").toString());
        assertTrue(second.contains("resumed from") && second.contains("step 6/6"), second);
        for (String f : List.of("adapter_model.safetensors", "trainable_extra.safetensors", "optimizer.safetensors")) {
            try (TensorSource a = Checkpoints.open(whole.resolve("last").resolve(f)); TensorSource b = Checkpoints.open(parts.resolve("last").resolve(f))) {
                assertEquals(a.names(), b.names(), f);
                for (String n : a.names()) assertEquals(a.load(n), b.load(n), f + " " + n);
            }
        }
        // a changed LoRA configuration is refused
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> a = new ArrayList<>(List.of("train", "--model", model.toString(), "--train", jsonl.toString(), "--val-ratio", "0.25",
                "--cache", cache.toString(), "--out", parts.toString(), "--rank", "8", "--alpha", "8", "--max-steps", "6",
                "--max-duration", "1.28", "--resume-from", parts.resolve("last").toString()));
        assertNotEquals(0, TrainMainTest.run(out, a.toArray(new String[0])));
        assertTrue(out.toString().contains("rank") && out.toString().contains("--force-resume"), out.toString());
    }
}
