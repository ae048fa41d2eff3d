package bloom4j.convert;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.models.vae.OobleckConfig;
import bloom4j.models.vae.OobleckVae;
import bloom4j.tensor.DType;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.SafeTensorsFile;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stable-audio Lightning {@code autoencoder.ckpt} ({'state_dict': {encoder.layers..., decoder.layers...}}, weight-norm pairs)
 * with its JSON config, as SongBloom ships its VAE: detected as {@code vae}, converted with names and weight_g/weight_v kept, and
 * loadable by {@link OobleckVae} from the folder with the config stored in config.json.
 */
class ConvertVaeTest {

    @Test void lightningAutoencoderCheckpointConvertsAndLoads(@TempDir Path tmp) throws Exception {
        Path dir = TestFixtures.dir("oobleck-vae");
        Path out = tmp.resolve("vae");
        ConvertResult r = Converter.convert(new ConvertOptions(List.of(dir.resolve("autoencoder.ckpt")), out, null, DType.F32,
                dir.resolve("vae_config.json"), ConvertOptions.DEFAULT_SHARD_BYTES), false);
        assertEquals(ModelKind.VAE, r.kind());
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("vae", config.get("model_type").asText());
        OobleckConfig c = OobleckConfig.fromJson(config.get("upstream_config"));
        try (TensorSource src = Checkpoints.open(out); SafeTensorsFile io = SafeTensorsFile.open(dir.resolve("io.safetensors"))) {
            assertTrue(src.contains("decoder.layers.1.layers.1.weight_g"), "weight-norm pairs are kept");
            OobleckVae vae = OobleckVae.load(src, OobleckVae.detectPrefix(src), c, OobleckVae.Parts.ALL);
            INDArray want = io.loadFloat("decode_out");
            assertTrue(want.equalsWithEps(vae.decode(io.loadFloat("latent_in")), 1e-4));
            OobleckVae fromFolder = OobleckVae.load(bloom4j.tensor.io.ModelFolder.open(out), OobleckVae.Parts.ALL);
            assertTrue(want.equalsWithEps(fromFolder.decode(io.loadFloat("latent_in")), 1e-4), "the folder loader reads the same");
        }
    }
}
