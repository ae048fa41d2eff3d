package bloom4j.convert;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.models.songbloom.SongBloomAr;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.tensor.DType;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SongBloom's conversion hook: the YAML given with --config is checked against the weights, and the folder loads for generation. */
class SongBloomConvertTest {

    static Fixture fixture() throws IOException, URISyntaxException {
        return TestFixtures.open("songbloom-ar");
    }

    /** The fixture's MVSA_DiTAR arguments as the upstream YAML would hold them, under 'model:'. */
    static Path yaml(Fixture f, Path dir, int numPitch) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode model = (ObjectNode) f.config().get("MVSA_DiTAR").deepCopy();
        model.put("num_pitch", numPitch);
        ObjectNode root = json.createObjectNode();
        root.set("model", model);
        Path p = dir.resolve("songbloom_tiny.json");
        Files.writeString(p, json.writeValueAsString(root));
        return p;
    }

    @Test
    void aFolderConvertedWithItsYamlLoadsAndComputesLikeTheCheckpoint(@TempDir Path tmp) throws Exception {
        try (Fixture f = fixture()) {
            Path out = tmp.resolve("songbloom-tiny");
            ConvertResult r = Converter.convert(new ConvertOptions(List.of(f.checkpoint()), out, null, DType.F32, yaml(f, tmp, 32),
                    ConvertOptions.DEFAULT_SHARD_BYTES), false);
            assertEquals(ModelKind.SONGBLOOM, r.kind());
            // the YAML has no inference block, and the released top_k of 100 does not fit 32 codes: said, not blamed on the user
            assertEquals(1, r.warnings().size(), r.warnings().toString());
            assertTrue(r.warnings().get(0).startsWith("top_k 100 (the released default; --config has no inference.top_k) exceeds "
                    + "the model's 33 sketch classes"), r.warnings().get(0));

            SongBloomAr m = SongBloomAr.load(out);
            assertEquals(SongBloomConfig.tiny(), m.config());
            INDArray inputs = f.tensor("inputs_embeds");
            String hidden = m.lm().hidden().name();
            INDArray got = m.run(inputs, m.newCache(29), hidden).get(hidden).reshape(inputs.shape());
            double err = Transforms.abs(got.sub(f.tensor("last_hidden_state"))).maxNumber().doubleValue();
            assertTrue(err < 1e-5, "last_hidden_state from the converted folder: max |diff| " + err);
        }
    }

    @Test
    void aYamlThatContradictsTheWeightsStopsTheConversion(@TempDir Path tmp) throws Exception {
        try (Fixture f = fixture()) {
            Path out = tmp.resolve("bad");
            IOException e = assertThrows(IOException.class, () -> Converter.convert(new ConvertOptions(List.of(f.checkpoint()), out, null,
                    DType.F32, yaml(f, tmp, 16384), ConvertOptions.DEFAULT_SHARD_BYTES), false));
            assertTrue(e.getMessage().contains("--config does not fit the checkpoint")
                    && e.getMessage().contains("num_pitch is 16384 in the config but 32 in the weights"), e.getMessage());
            assertFalse(Files.exists(out), "nothing is written");
        }
    }

    @Test
    void withoutYamlTheConversionWarnsThatGenerationNeedsIt(@TempDir Path tmp) throws Exception {
        try (Fixture f = fixture()) {
            ConvertResult r = Converter.convert(new ConvertOptions(List.of(f.checkpoint()), tmp.resolve("noyaml"), null, DType.F32, null,
                    ConvertOptions.DEFAULT_SHARD_BYTES), false);
            assertEquals(1, r.warnings().size());
            assertTrue(r.warnings().get(0).contains("--config songbloom_full_150s.yaml"), r.warnings().get(0));
            IOException e = assertThrows(IOException.class, () -> SongBloomAr.load(tmp.resolve("noyaml")));
            assertTrue(e.getMessage().contains("no upstream_config"), e.getMessage());
        }
    }

    static Path yamlWithInference(Fixture f, Path dir, String inferenceJson) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(yaml(f, dir, 32).toFile());
        root.set("inference", json.readTree(inferenceJson));
        Path p = dir.resolve("songbloom_tiny_inference.json");
        Files.writeString(p, json.writeValueAsString(root));
        return p;
    }

    @Test
    void anInferenceBlockOfTheWrongShapeStopsTheConversionNamingEveryKey(@TempDir Path tmp) throws Exception {
        try (Fixture f = fixture()) {
            Path out = tmp.resolve("bad-inference");
            IOException e = assertThrows(IOException.class, () -> Converter.convert(new ConvertOptions(List.of(f.checkpoint()), out, null,
                    DType.F32, yamlWithInference(f, tmp, "{\"top_k\": \"many\", \"temp\": [0.9], \"cfg_coef\": {\"a\": 1}}"),
                    ConvertOptions.DEFAULT_SHARD_BYTES), false));
            assertTrue(e.getMessage().startsWith("--config: 3 problems"), e.getMessage());
            assertTrue(e.getMessage().contains("inference.top_k must be a whole number >= 0, got text \"many\""), e.getMessage());
            assertTrue(e.getMessage().contains("inference.temp must be a finite number"), e.getMessage());
            assertTrue(e.getMessage().contains("inference.cfg_coef must be a number or a pair"), e.getMessage());
            assertFalse(Files.exists(out), "nothing is written");

            e = assertThrows(IOException.class, () -> Converter.convert(new ConvertOptions(List.of(f.checkpoint()), out, null,
                    DType.F32, yamlWithInference(f, tmp, "[1, 2]"), ConvertOptions.DEFAULT_SHARD_BYTES), false));
            assertTrue(e.getMessage().contains("'inference' must be a mapping"), e.getMessage());
        }
    }

    @Test
    void aTopKTheYamlGivesThatDoesNotFitStopsTheConversion(@TempDir Path tmp) throws Exception {
        try (Fixture f = fixture()) {
            Path out = tmp.resolve("big-topk");
            IOException e = assertThrows(IOException.class, () -> Converter.convert(new ConvertOptions(List.of(f.checkpoint()), out, null,
                    DType.F32, yamlWithInference(f, tmp, "{\"top_k\": 100}"), ConvertOptions.DEFAULT_SHARD_BYTES), false));
            assertTrue(e.getMessage().startsWith("top_k 100 (inference.top_k in --config) exceeds the model's 33 sketch classes"),
                    e.getMessage());
            ConvertResult ok = Converter.convert(new ConvertOptions(List.of(f.checkpoint()), out, null, DType.F32,
                    yamlWithInference(f, tmp, "{\"top_k\": 33, \"cfg_coef\": [2.0, 1.5]}"), ConvertOptions.DEFAULT_SHARD_BYTES), false);
            assertEquals(List.of(), ok.warnings());
        }
    }
}
