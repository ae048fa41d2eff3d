package bloom4j.models.songbloom;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SongBloomConfigTest {

    /** The model block of the released songbloom_full_150s.yaml, with its OmegaConf interpolations left as strings. */
    static final String RELEASED_150S = """
            precision: 'bf16-mixed'
            max_dur: 150
            model:
              block_size: 16
              latent_dim: 64
              dim: 1536
              num_heads: 24
              lm_layers: 36
              diff_layers: 12
              num_pitch: 16384
              backend: llama
              rotary_base_val: 20000
              condition_provider_cfg:
                prompt_wav:
                  type: audio_tokenizer_wrapper
                  output_dim: ${model.dim}
                  max_len: 250
                lyrics:
                  type: phoneme_tokenizer
                  output_dim: ${model.dim}
                  vocab_list: ${load_yaml:${dynamic_path:???/vocab_g2p.yaml}}
                  max_len: 600
                  max_sentence_per_structure: 50
                  mode: sum
            inference:
              cfg_coef: 1.5
              top_k: 100
            """;

    static JsonNode yaml(String s) throws Exception { return new ObjectMapper(new YAMLFactory()).readTree(s); }

    @Test
    void releasedYaml() throws Exception {
        SongBloomConfig c = SongBloomConfig.fromUpstream(yaml(RELEASED_150S));
        assertEquals(SongBloomConfig.released150s(), c);
        assertEquals(64, c.headDim());
        assertEquals(6144, c.ffnDim());
        assertEquals(850, c.prefixLength());
        assertEquals(1024, c.blockConvIn());
        assertEquals(16386, c.sketchVocabulary().embeddingRows());
        assertEquals(37_751_808L, c.llama().paramsPerLayer(), "37,751,808 parameters per LLaMA layer");
        assertEquals(1_359_066_624L, c.llama().params(), "AR LLaMA parameters");
    }

    @Test
    void samplingOptionsFromTheInferenceBlock() throws Exception {
        assertEquals(SamplingOptions.released().withTopK(100), SamplingOptions.fromUpstream(yaml(RELEASED_150S)));
        try (Fixture f = TestFixtures.open("songbloom-generate")) {
            assertEquals(new SamplingOptions(1.5f, true, 0.9f, 1, true, 6), SamplingOptions.fromUpstream(f.config().get("generate_params")));
        }
        assertEquals(new SamplingOptions(2f, true, 0.9f, 100, true, 50), SamplingOptions.fromUpstream(yaml("inference:\n  cfg_coef: [2.0, 1.5]\n")));
    }

    /** The fixture's constructor arguments, checked against its checkpoint, give the tiny preset. */
    @Test
    void fixtureConfigAgreesWithItsWeights() throws Exception {
        try (Fixture f = TestFixtures.open("songbloom-ar"); TensorSource w = Checkpoints.open(f.checkpoint())) {
            assertEquals(SongBloomConfig.tiny(), SongBloomConfig.resolve(f.config(), w));
            JsonNode derived = f.config().get("derived");
            SongBloomConfig c = SongBloomConfig.tiny();
            assertEquals(derived.get("head_dim").asInt(), c.headDim());
            assertEquals(derived.get("llama_intermediate_size").asInt(), c.ffnDim());
            assertEquals(derived.get("llama_rope_theta").asDouble(), c.ropeTheta());
            assertEquals(derived.get("llama_rms_norm_eps").asDouble(), c.rmsNormEps());
            assertEquals(derived.get("skeleton_emb_rows").asInt(), c.sketchVocabulary().embeddingRows());
        }
    }

    /** Values the YAML leaves out come from the weights, or from MVSA_DiTAR's defaults where the weights cannot tell. */
    @Test
    void gapsAreFilledFromTheWeightsThenFromUpstreamDefaults() throws Exception {
        ObjectNode m = (ObjectNode) TestFixtures.open("songbloom-ar").config().get("MVSA_DiTAR").deepCopy();
        for (String k : new String[] {"dim", "lm_layers", "num_pitch", "hidden_scale", "block_size", "latent_dim", "diff_layers",
                "num_heads", "rotary_base_val"}) m.remove(k);
        try (TensorSource w = Checkpoints.open(TestFixtures.dir("songbloom-ar").resolve("model.pt"))) {
            SongBloomConfig c = SongBloomConfig.resolve(m, w);
            assertEquals(80, c.dim());
            assertEquals(2, c.lmLayers());
            assertEquals(32, c.numPitch());
            assertEquals(2, c.hiddenScale());
            assertEquals(4, c.blockSize());
            assertEquals(8, c.latentDim());
            assertEquals(2, c.diffLayers());
            assertEquals(SongBloomConfig.DEFAULT_NUM_HEADS, c.numHeads());
            assertEquals(SongBloomConfig.DEFAULT_ROTARY_BASE, c.ropeTheta());
        }
    }

    @Test
    void aYamlOfAnotherModelIsRefusedWithBothValues() throws Exception {
        ObjectNode m = (ObjectNode) TestFixtures.open("songbloom-ar").config().get("MVSA_DiTAR").deepCopy();
        m.put("num_pitch", 16384);
        m.put("lm_layers", 36);
        try (TensorSource w = Checkpoints.open(TestFixtures.dir("songbloom-ar").resolve("model.pt"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SongBloomConfig.resolve(m, w));
            String msg = e.getMessage();
            assertTrue(msg.contains("num_pitch is 16384 in the config but 32 in the weights (model.skeleton_emb.weight [34, 80]"), msg);
            assertTrue(msg.contains("lm_layers is 36 in the config but 2 in the weights"), msg);
            assertTrue(msg.contains("use the YAML released with this checkpoint"), msg);
        }
    }

    @Test
    void missingAndMalformedValuesAreNamed() throws Exception {
        JsonNode noLyrics = yaml(RELEASED_150S.replace("      max_len: 600\n", ""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SongBloomConfig.fromUpstream(noLyrics));
        assertTrue(e.getMessage().contains("missing condition_provider_cfg.lyrics.max_len"), e.getMessage());
        JsonNode bad = yaml(RELEASED_150S.replace("num_heads: 24", "num_heads: many"));
        e = assertThrows(IllegalArgumentException.class, () -> SongBloomConfig.fromUpstream(bad));
        assertTrue(e.getMessage().contains("num_heads is \"many\", expected an integer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SongBloomConfig.fromUpstream(yaml("sr: 48000\n")));
        assertTrue(e.getMessage().contains("no 'model' block"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SongBloomConfig.fromUpstream(yaml(RELEASED_150S.replace("num_heads: 24",
                "num_heads: 7"))));
        assertTrue(e.getMessage().contains("not a multiple of num_heads 7"), e.getMessage());
    }

    @Test
    void aModelFolderNeedsTheUpstreamYaml(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("config.json"), "{\"bloom4j_format\": 1, \"model_type\": \"songbloom\"}");
        try (TensorSource w = Checkpoints.open(TestFixtures.dir("songbloom-ar").resolve("model.pt"))) {
            SongBloomWeightException e = assertThrows(SongBloomWeightException.class, () -> SongBloomConfig.fromModelFolder(tmp, w));
            assertTrue(e.getMessage().contains("no upstream_config") && e.getMessage().contains("--config songbloom_full_150s.yaml"),
                    e.getMessage());
            Files.writeString(tmp.resolve("config.json"), "{\"model_type\": \"muq\"}");
            e = assertThrows(SongBloomWeightException.class, () -> SongBloomConfig.fromModelFolder(tmp, w));
            assertTrue(e.getMessage().contains("model_type is 'muq'"), e.getMessage());
        }
    }
}
