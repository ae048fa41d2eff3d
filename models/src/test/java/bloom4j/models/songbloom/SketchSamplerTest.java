package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SketchSamplerTest {

    /** P = 3 codes (0, 1, 2), EOS = 3, four classes. */
    private static final SketchVocabulary V3 = new SketchVocabulary(3);

    @Test
    void cfgOnLogits() {
        assertArrayEquals(new float[]{1.5f, 1.0f, -3f}, SketchSampler.guide(new float[]{1, 2, -2}, new float[]{0, 4, 0}, 1.5f));
        assertArrayEquals(new float[]{1, 2}, SketchSampler.guide(new float[]{1, 2}, new float[]{5, 6}, 1f));
    }

    @Test
    void penaltyDividesSoNegativeLogitsGrowAndEosIsSpared() {
        float[] l = {2f, -2f, 1f, 0.5f};
        // id 1 twice (divided once), id 0 once, EOS (3) as left padding: never divided.
        SketchSampler.applyRepetitionPenalty(l, new int[]{3, 3, 1, 1, 0}, 3);
        assertEquals(2f / 1.1f, l[0]);
        assertEquals(-2f / 1.1f, l[1]);
        assertTrue(l[1] > -2f, "a negative logit grows under the upstream penalty");
        assertEquals(1f, l[2]);
        assertEquals(0.5f, l[3]);
    }

    @Test
    void penaltyWindowIsLeftPaddedWithEosAndSlides() {
        PenaltyWindow w = PenaltyWindow.forBlock(new int[]{5, 6}, 4, 9);
        assertArrayEquals(new int[]{9, 9, 5, 6}, w.tokens());
        w.push(7);
        assertArrayEquals(new int[]{9, 5, 6, 7}, w.tokens());
        assertArrayEquals(new int[]{3, 4, 5}, PenaltyWindow.forBlock(new int[]{1, 2, 3, 4, 5}, 3, 9).tokens());
        assertSame(PenaltyWindow.none(), PenaltyWindow.forBlock(new int[0], 4, 9));
        assertFalse(PenaltyWindow.none().isActive());

        SketchSampler on = new SketchSampler(V3, new SamplingOptions(1f, false, 1f, 0, true, 2), NoiseSource.seeded(1));
        assertArrayEquals(new int[]{3, 1}, on.windowForBlock(new int[]{1}).tokens());
        assertSame(PenaltyWindow.none(), on.windowForBlock(new int[0]));
        SketchSampler off = new SketchSampler(V3, new SamplingOptions(1f, false, 1f, 0, false, 2), NoiseSource.seeded(1));
        assertSame(PenaltyWindow.none(), off.windowForBlock(new int[]{1, 2}));
    }

    @Test
    void penaltyCanFlipAGreedyChoice() {
        SketchSampler s = new SketchSampler(V3, new SamplingOptions(1f, false, 1f, 0, true, 2), NoiseSource.replay(new float[0][]));
        float[] logits = {1.05f, 1.0f, -5f, -5f};
        assertEquals(0, s.sampleGuided(logits, PenaltyWindow.none()).token());
        PenaltyWindow w = s.windowForBlock(new int[]{0});
        SketchSampler.Step step = s.sampleGuided(logits, w);
        assertEquals(1, step.token());  // 1.05 / 1.1 < 1.0
        assertNull(step.probs());
        assertArrayEquals(new int[]{0, 1}, w.tokens(), "the sampled token enters the window");
        assertEquals(1.05f, logits[0], "input logits are not modified");
    }

    @Test
    void temperatureScalesBeforeSoftmax() {
        SketchSampler s = new SketchSampler(V3, new SamplingOptions(1f, true, 0.5f, 0, false, 1), NoiseSource.seeded(3));
        float ln3 = (float) Math.log(3);
        SketchSampler.Step step = s.sampleGuided(new float[]{0f, ln3 / 2, -1e30f, -1e30f}, PenaltyWindow.none());
        assertArrayEquals(new float[]{0f, ln3 / 2 / 0.5f, -1e30f / 0.5f, -1e30f / 0.5f}, step.scaledLogits());
        assertEquals(0.25f, step.probs()[0], 1e-7f);
        assertEquals(0.75f, step.probs()[1], 1e-7f);
        assertEquals(0f, step.probs()[2]);
    }

    @Test
    void topKKeepsTies() {
        float[] p = {0.1f, 0.2f, 0.4f, 0.2f, 0.1f};
        SketchSampler.keepTopK(p, 2);  // k-th largest is 0.2, both 0.2 survive
        assertArrayEquals(new float[]{0f, 0.25f, 0.5f, 0.25f, 0f}, p, 1e-7f);
        float[] q = {0.1f, 0.2f, 0.4f, 0.2f, 0.1f};
        SketchSampler.keepTopK(q, 4);  // k-th largest is 0.1: everything survives
        assertArrayEquals(new float[]{0.1f, 0.2f, 0.4f, 0.2f, 0.1f}, q, 1e-7f);
        float[] one = {0.3f, 0.5f, 0.2f};
        SketchSampler.keepTopK(one, 1);
        assertArrayEquals(new float[]{0f, 1f, 0f}, one);
    }

    @Test
    void multinomialIsArgmaxOfPOverRecordedNoise() {
        // Gumbel-max in exponential form: the less likely class wins when its noise is small enough.
        assertEquals(1, SketchSampler.multinomial(new float[]{0.7f, 0.3f}, new float[]{1.0f, 0.1f}));
        assertEquals(0, SketchSampler.multinomial(new float[]{0.7f, 0.3f}, new float[]{1.0f, 1.0f}));
        // A zero-probability class never wins, even with tiny noise.
        assertEquals(0, SketchSampler.multinomial(new float[]{0.01f, 0f}, new float[]{50f, 1e-30f}));

        NoiseSource.Replay noise = NoiseSource.replay(new float[][]{{1f, 1f, 0.01f, 1f}, {1f, 1f, 1f, 0.01f}});
        SketchSampler s = new SketchSampler(V3, new SamplingOptions(1f, true, 1f, 0, false, 1), noise);
        float[] logits = {2f, 1f, 0f, -1f};
        assertEquals(2, s.sampleGuided(logits, PenaltyWindow.none()).token());
        assertEquals(3, s.sampleGuided(logits, PenaltyWindow.none()).token());  // EOS can be drawn
        assertEquals(0, noise.remaining());
        IllegalStateException done = assertThrows(IllegalStateException.class, () -> s.sampleGuided(logits, PenaltyWindow.none()));
        assertTrue(done.getMessage().contains("exhausted"), done.getMessage());

        SketchSampler wrong = new SketchSampler(V3, new SamplingOptions(1f, true, 1f, 0, false, 1),
                NoiseSource.replay(new float[][]{{1f, 1f}}));
        assertThrows(IllegalStateException.class, () -> wrong.sampleGuided(logits, PenaltyWindow.none()));
    }

    @Test
    void acceptsTheCfgBatchAndRecordedNoiseAsTensors() {
        // classifier output [2, 1, C]: row 0 cond, row 1 uncond -> guided [1.5, 1.0, -3, 0]
        org.nd4j.linalg.api.ndarray.INDArray out = org.nd4j.linalg.factory.Nd4j.create(
                new float[]{1, 2, -2, 0, 0, 4, 0, 0}, new long[]{2, 1, 4}, 'c');
        // recorded noise [n, 1, C] as a PyTorch dump would store it
        NoiseSource.Replay noise = NoiseSource.replay(org.nd4j.linalg.factory.Nd4j.create(
                new float[]{1f, 0.001f, 1f, 1f}, new long[]{1, 1, 4}, 'c'));
        SketchSampler s = new SketchSampler(V3, new SamplingOptions(1.5f, true, 1f, 0, false, 1), noise);
        SketchSampler.Step step = s.sample(out, PenaltyWindow.none());
        assertArrayEquals(new float[]{1.5f, 1.0f, -3f, 0f}, step.scaledLogits());
        assertEquals(1, step.token());
        assertEquals(1, noise.used());
        assertThrows(IllegalArgumentException.class, () -> s.sample(org.nd4j.linalg.factory.Nd4j.zeros(1, 4), PenaltyWindow.none()));
    }

    @Test
    void topKOneIsArgmaxWhateverTheNoise() {
        SketchSampler s = new SketchSampler(V3, new SamplingOptions(1.5f, true, 0.9f, 1, true, 4), NoiseSource.seeded(42));
        for (int i = 0; i < 50; i++) assertEquals(1, s.sample(new float[]{0f, 1f, 0.5f, -1f}, new float[]{0f, 0f, 0f, 0f},
                PenaltyWindow.none()).token());
    }

    @Test
    void seededNoiseIsReproducibleAndSamplesTheDistribution() {
        SamplingOptions o = new SamplingOptions(1f, true, 1f, 0, false, 1);
        float[] logits = {0f, (float) Math.log(3), -1e30f, -1e30f};  // p = 1/4, 3/4, 0, 0
        SketchSampler a = new SketchSampler(V3, o, NoiseSource.seeded(7));
        SketchSampler b = new SketchSampler(V3, o, NoiseSource.seeded(7));
        int ones = 0;
        int n = 4000;
        for (int i = 0; i < n; i++) {
            int ta = a.sampleGuided(logits, PenaltyWindow.none()).token();
            assertEquals(ta, b.sampleGuided(logits, PenaltyWindow.none()).token());
            assertTrue(ta == 0 || ta == 1);
            ones += ta;
        }
        assertEquals(0.75, ones / (double) n, 0.03);
        float[] q = NoiseSource.seeded(9).exponential(10000);
        double mean = 0;
        for (float x : q) {
            assertTrue(x > 0);
            mean += x;
        }
        assertEquals(1.0, mean / q.length, 0.05);
    }

    @Test
    void rejectsBadSettingsAndShapes() {
        assertThrows(IllegalArgumentException.class, () -> new SketchSampler(V3, SamplingOptions.released(), NoiseSource.seeded(1)));
        assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(1f, true, -1f, 0, false, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplingOptions(1f, true, 1f, 0, true, 0));
        SketchSampler s = new SketchSampler(V3, new SamplingOptions(1f, false, 1f, 0, false, 1), NoiseSource.seeded(1));
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3], new float[3], PenaltyWindow.none()));
        assertEquals(SamplingOptions.released(), new SamplingOptions(1.5f, true, 0.9f, 100, true, 50));
    }

    /**
     * The songbloom-generate fixture (top_k = 1, cfg 1.5, temp 0.9, penalty window 6, block 4, P = 32): from the recorded raw
     * classifier outputs of each step (rows cond, uncond) the sampler must rebuild exactly what upstream handed to softmax
     * (CFG + penalty, / temp) and pick the recorded tokens. The window of block b holds the tokens of blocks 0..b-1 (all kept: only
     * the last sampled block is discarded), left-padded with EOS. top_k = 1 makes the multinomial input one-hot, so the noise
     * (not recorded by the fixture) cannot change the result; a seeded source stands in for it.
     */
    @Test
    void reproducesTheGenerateFixtureSteps() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-generate")) {
            JsonNode cfg = f.config();
            JsonNode gp = cfg.get("generate_params");
            int blockSize = cfg.at("/MVSA_DiTAR/block_size").asInt();
            SketchVocabulary v = new SketchVocabulary(cfg.at("/MVSA_DiTAR/num_pitch").asInt());
            SamplingOptions o = new SamplingOptions((float) gp.get("cfg_coef").asDouble(), gp.get("use_sampling").asBoolean(),
                    (float) gp.get("temp").asDouble(), gp.get("top_k").asInt(), gp.get("penalty_repeat").asBoolean(),
                    gp.get("penalty_window").asInt());
            assertEquals(new SamplingOptions(1.5f, true, 0.9f, 1, true, 6), o);
            SketchSampler sampler = new SketchSampler(v, o, NoiseSource.seeded(0));

            float[] raw = f.tensor("step_classifier_out").reshape(-1).toFloatVector();      // [16, 2, 33]
            float[] scaled = f.tensor("step_scaled_logits").reshape(-1).toFloatVector();    // [16, 1, 33]
            int[] blocks = f.tensor("blocks_tokens_all").reshape(-1).toIntVector();         // [4, 4]
            int c = v.classes();
            int steps = raw.length / (2 * c);
            assertEquals(steps, blocks.length);

            int[] kept = new int[0];
            boolean penaltyChangedSomething = false;
            for (int b = 0; b < steps / blockSize; b++) {
                PenaltyWindow window = sampler.windowForBlock(kept);
                assertEquals(b > 0, window.isActive());
                for (int k = 0; k < blockSize; k++) {
                    int step = b * blockSize + k;
                    float[] cond = Arrays.copyOfRange(raw, (2 * step) * c, (2 * step + 1) * c);
                    float[] uncond = Arrays.copyOfRange(raw, (2 * step + 1) * c, (2 * step + 2) * c);
                    float[] want = Arrays.copyOfRange(scaled, step * c, (step + 1) * c);
                    SketchSampler.Step got = sampler.sample(cond, uncond, window);
                    assertArrayEquals(want, got.scaledLogits(), "scaled logits of step " + step);
                    assertEquals(blocks[step], got.token(), "token of step " + step);
                    if (b > 0) {
                        float[] unpenalized = SketchSampler.guide(cond, uncond, o.cfgCoef());
                        for (int i = 0; i < c; i++) unpenalized[i] /= o.temperature();
                        penaltyChangedSomething |= !Arrays.equals(unpenalized, want);
                        assertEquals(unpenalized[v.eos()], want[v.eos()], "EOS (the padding id) is never penalized");
                    }
                }
                int[] next = Arrays.copyOf(kept, kept.length + blockSize);
                System.arraycopy(blocks, b * blockSize, next, kept.length, blockSize);
                kept = next;
            }
            assertTrue(penaltyChangedSomething, "the fixture exercises the repetition penalty");
            int[] tokenSeq = f.tensor("token_seq").reshape(-1).toIntVector();
            assertArrayEquals(Arrays.copyOf(blocks, tokenSeq.length), tokenSeq);
        }
    }
}
