package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.nn.KvCache;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The streaming generator against the AR steps of upstream {@code MVSA_DiTAR.generate} recorded in the songbloom-generate fixture
 * (tiny model, CFG 1.5, temperature 0.9, top-k 1, penalty window 6, max_frames 12: 3 kept blocks and a 4th sampled and dropped).
 * The DiT is another issue: a stand-in acoustic model replays the recorded block latents, so every AR input is what upstream fed.
 */
class SketchGeneratorTest {
    static Fixture f;
    static SongBloomAr model;
    static JsonNode params;

    @BeforeAll
    static void load() throws Exception {
        f = TestFixtures.open("songbloom-generate");
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            model = SongBloomAr.load(SongBloomConfig.resolve(f.config(), w), w);
        }
        params = f.config().get("generate_params");
    }

    static SketchSampler sampler() {
        SamplingOptions o = new SamplingOptions((float) params.get("cfg_coef").asDouble(), params.get("use_sampling").asBoolean(),
                (float) params.get("temp").asDouble(), params.get("top_k").asInt(), params.get("penalty_repeat").asBoolean(),
                params.get("penalty_window").asInt());
        return new SketchSampler(model.vocabulary(), o, NoiseSource.seeded(0));   // top_k = 1: the noise cannot matter
    }

    static double maxDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE))).maxNumber().doubleValue();
    }

    static INDArray row(INDArray a, long i) { return a.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all()); }

    @Test
    void conditionsFromTheLyricAndThePromptLatents() throws Exception {
        TokenizedLyrics lyric = model.lyricConditioner().tokenizer().tokenize(params.get("lyric").asText());
        assertArrayEquals(f.tensor("lyrics_token_ids").toIntVector(), lyric.tokenIds());
        INDArray lyrics = model.lyricConditioner().cfgBatch(lyric);
        assertEquals(0.0, maxDiff(lyrics, f.tensor("cond_lyrics")), "lyric condition (cond + null) is bit-exact");

        INDArray latent = f.tensor("prompt_latent");                              // [2, latent, frames]: the VAE sample of cond, null
        INDArray prompt = model.promptConditioner().cfgBatch(row(latent, 0).transpose());
        INDArray want = f.tensor("cond_prompt_wav");
        assertTrue(maxDiff(prompt, want) < 1e-5, "prompt condition: max |diff| " + maxDiff(prompt, want));
        assertEquals(0.0, row(want, 1).amaxNumber().doubleValue(), "the null prompt is all zeros");
        assertArrayEquals(new long[] {2, 6 + 12, 80}, model.cfgPrefix(row(latent, 0).transpose(), lyric).shape());
    }

    @Test
    void replaysTheRecordedGeneration() throws Exception {
        INDArray prefix = SongBloomAr.prefix(f.tensor("cond_prompt_wav"), f.tensor("cond_lyrics"));
        int maxFrames = params.get("max_frames").asInt();
        SketchGenerator g = model.generator(prefix, sampler(), maxFrames);
        assertEquals(3, g.maxKeptBlocks());

        INDArray latents = f.tensor("blocks_latent_all");                        // [blocks, S, latent]
        INDArray seqAll = f.tensor("blocks_seq_all");                            // [blocks, S + 1, D]
        INDArray hAll = f.tensor("dit_calls_h");                                 // [blocks · steps, D]
        int ditSteps = params.get("steps").asInt();
        List<INDArray> classifier = new ArrayList<>();
        List<float[]> scaled = new ArrayList<>();
        List<SketchGenerator.Block> blocks = new ArrayList<>();
        SketchGenerator.Result r = g.run((block, previous) -> {
            int b = block.index();
            INDArray wantPrev = b == 0 ? Nd4j.zeros(DataType.FLOAT, 4, 8) : row(latents, b - 1);
            assertEquals(0.0, maxDiff(previous, wantPrev), "previous latents of block " + b);
            blocks.add(block);
            return row(latents, b).dup();
        }, e -> {
            classifier.add(e.classifierOut());
            scaled.add(e.step().scaledLogits());
        });

        assertEquals(4, r.blocksSampled());
        assertEquals(4, blocks.size());
        assertTrue(g.finished());
        INDArray wantOut = f.tensor("step_classifier_out");                      // [steps, 2, C]
        INDArray gotOut = Nd4j.stack(0, classifier.toArray(new INDArray[0]));
        assertTrue(maxDiff(gotOut, wantOut) < 1e-5, "classifier outputs of the CFG pair: max |diff| " + maxDiff(gotOut, wantOut));
        float[][] wantScaled = f.tensor("step_scaled_logits").reshape(scaled.size(), -1).toFloatMatrix();
        for (int i = 0; i < scaled.size(); i++) assertArrayEquals(wantScaled[i], scaled.get(i), 1e-5f, "scaled logits of step " + i);

        int[][] wantTokens = f.tensor("blocks_tokens_all").toIntMatrix();
        for (SketchGenerator.Block b : blocks) {
            int i = b.index();
            assertArrayEquals(wantTokens[i], b.tokens(), "tokens of block " + i);
            INDArray seq = row(seqAll, i);
            assertEquals(0.0, maxDiff(b.embeddings(), seq.get(NDArrayIndex.interval(0, 4), NDArrayIndex.all())), "embeddings " + i);
            INDArray h = hAll.getRow((long) i * ditSteps);
            assertTrue(maxDiff(b.h(), h) < 1e-5, "h of block " + i + ": max |diff| " + maxDiff(b.h(), h));
            INDArray a = model.blockConv(row(latents, i));
            assertTrue(maxDiff(a, seq.getRow(4)) < 1e-5, "block_conv token of block " + i);
            assertEquals(i == 3, !b.keep(), "only the 4th block is dropped");
            assertFalse(b.eos());
        }
        assertTrue(blocks.get(3).overLength());
        assertArrayEquals(f.tensor("token_seq").reshape(-1).toIntVector(), r.tokens());
        INDArray wantLatents = f.tensor("latent_seq");                           // [1, latent, T]
        assertEquals(0.0, maxDiff(r.latents(), row(wantLatents, 0).transpose()));
        assertThrows(IllegalStateException.class, () -> g.nextBlock(SketchGenerator.Listener.NONE));
    }

    /**
     * Decoding with the cache equals recomputing: the whole sequence the generator fed (prefix, BOS, three kept blocks with their
     * block_conv tokens, the dropped block's tokens) run at once gives, at every sampling position, the classifier output the
     * generator sampled from, and at the last position the dropped block's h.
     */
    @Test
    void decodeWithTheCacheEqualsFullRecompute() throws Exception {
        INDArray prefix = SongBloomAr.prefix(f.tensor("cond_prompt_wav"), f.tensor("cond_lyrics"));
        SketchGenerator g = model.generator(prefix, sampler(), params.get("max_frames").asInt());
        INDArray latents = f.tensor("blocks_latent_all");
        List<INDArray> outs = new ArrayList<>();
        List<SketchGenerator.Block> blocks = new ArrayList<>();
        g.run((b, prev) -> {
            blocks.add(b);
            return row(latents, b.index()).dup();
        }, e -> outs.add(e.classifierOut()));

        List<INDArray> seq = new ArrayList<>();
        seq.add(model.bos().reshape(1, -1));
        for (SketchGenerator.Block b : blocks) {
            seq.add(b.embeddings());
            if (b.keep()) seq.add(model.blockConv(row(latents, b.index())));
        }
        INDArray one = Nd4j.concat(0, seq.toArray(new INDArray[0]));           // [positions, D]
        INDArray pair = Nd4j.stack(0, one, one);
        INDArray inputs = Nd4j.concat(1, prefix, pair);
        int n = (int) inputs.size(1), p = (int) prefix.size(1), c = model.vocabulary().classes();
        assertEquals(n, g.cachedPositions());
        KvCache cache = model.newCache(n);
        Map<String, INDArray> full = model.run(inputs, cache, model.logits().name(), model.lm().hidden().name());
        INDArray logits = full.get(model.logits().name()).reshape(2, n, c);
        int k = 0;
        for (int i = 0; i < n - p; i++) {
            if ((i + 1) % 5 == 0) continue;                                      // the position after each block's last token gives h
            INDArray want = logits.get(NDArrayIndex.all(), NDArrayIndex.point(p + i), NDArrayIndex.all());
            INDArray got = outs.get(k++);
            assertTrue(maxDiff(got, want) < 1e-5, "sampling position " + i + ": max |cached - full| " + maxDiff(got, want));
        }
        assertEquals(outs.size(), k);
        INDArray lastH = full.get(model.lm().hidden().name()).reshape(2, n, model.config().dim())
                .get(NDArrayIndex.point(0), NDArrayIndex.point(n - 1), NDArrayIndex.all());
        assertTrue(maxDiff(lastH, blocks.get(3).h()) < 1e-5, "h of the dropped block");
    }

    @Test
    void stateErrorsSayWhatToDo() {
        INDArray prefix = Nd4j.zeros(DataType.FLOAT, 2, 18, 80);
        SketchGenerator g = model.generator(prefix, sampler(), 400);
        SketchGenerator.Block b = g.nextBlock(SketchGenerator.Listener.NONE);
        assertTrue(b.keep());
        IllegalStateException order = assertThrows(IllegalStateException.class, () -> g.nextBlock(SketchGenerator.Listener.NONE));
        assertTrue(order.getMessage().contains("accept()"), order.getMessage());
        assertThrows(IllegalArgumentException.class, () -> g.accept(Nd4j.zeros(DataType.FLOAT, 8, 4)));
        g.accept(Nd4j.zeros(DataType.FLOAT, 4, 8));
        assertArrayEquals(b.tokens(), g.keptTokens());
        assertThrows(IllegalStateException.class, () -> g.accept(Nd4j.zeros(DataType.FLOAT, 4, 8)));
        assertThrows(IllegalArgumentException.class, () -> model.generator(Nd4j.zeros(DataType.FLOAT, 1, 18, 80), sampler(), 400));
        SketchSampler other = new SketchSampler(new SketchVocabulary(16), SamplingOptions.released().withTopK(1), NoiseSource.seeded(1));
        assertThrows(IllegalArgumentException.class, () -> model.generator(prefix, other, 400));
    }

    /** The sketch-vocabulary guard: ids from a codebook of another size are refused with both sizes and the fix, never clamped. */
    @Test
    void sketchTokensOutsideTheCheckpointVocabularyAreRefused() {
        assertEquals(34, model.vocabulary().embeddingRows());
        assertArrayEquals(new long[] {2, 80}, model.sketchEmbeddings(0, 32).shape());   // a code and EOS
        SketchTokenException big = assertThrows(SketchTokenException.class, () -> model.sketchEmbeddings(3, 40, 5));
        String m = big.getMessage();
        assertTrue(m.contains("sketch token 40 at position 1") && m.contains("32 codes") && m.contains("at least 41 codes")
                && m.contains("--codebook-size 32"), m);
        assertThrows(SketchTokenException.class, () -> model.sketchEmbeddings(33));
        assertThrows(SketchTokenException.class, () -> model.sketchEmbeddings(-1));
        assertTrue(Arrays.equals(new long[] {2, 80}, model.blockConv(Nd4j.zeros(DataType.FLOAT, 2, 4, 8)).shape()));
        assertThrows(IllegalArgumentException.class, () -> model.blockConv(Nd4j.zeros(DataType.FLOAT, 2, 8, 4)));
    }
}
