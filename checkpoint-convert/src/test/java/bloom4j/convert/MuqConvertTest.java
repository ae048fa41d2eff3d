package bloom4j.convert;

import bloom4j.tensor.parity.TestFixtures;
import bloom4j.models.muq.MuqModel;
import bloom4j.tensor.DType;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A MuQ state dict (the muq-encoder fixture's model.pt, release key names with the dead modules) through {@code bloom4j convert}. */
class MuqConvertTest {

    static Path fixture(String file) throws URISyntaxException {
        return TestFixtures.file("muq-encoder", file);
    }

    @Test void deadModulesAreListedAndSkippedAndTheFolderLoads(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("muq");
        ConvertResult r = Converter.convert(new ConvertOptions(List.of(fixture("model.pt")), out, null, DType.F32, fixture("config.json"),
                ConvertOptions.DEFAULT_SHARD_BYTES), false);
        assertEquals(ModelKind.MUQ, r.kind());
        assertEquals(14, r.skipped().size(), r.skipped().toString());
        assertTrue(r.skipped().containsAll(List.of("model.cls_token", "model.linear.weight", "model.conformer.pos_conv_embed.conv.weight_v",
                "model.rvq.quantizers.0.codebook.weight")));
        try (TensorSource src = Checkpoints.open(out)) {
            assertTrue(src.names().stream().noneMatch(n -> r.skipped().contains(n)));
            assertTrue(src.contains("model.conformer.embed_positions.inv_freq"));
            assertTrue(src.contains("model.conv.conv.0.bn1.num_batches_tracked"));
        }
        JsonNode prov = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals(14, prov.path("skipped_unused").size());
        // the folder's config.json keeps the hub config under upstream_config, which MuqModel reads
        MuqModel m = MuqModel.load(out);
        assertEquals(64, m.config().encoderDim());
        assertTrue(m.unusedKeys().isEmpty(), m.unusedKeys().toString());

        // safetensors in, too: the folder's own weights convert again with nothing left to skip
        Path again = tmp.resolve("again");
        ConvertResult r2 = Converter.convert(new ConvertOptions(List.of(out.resolve("model.safetensors")), again, ModelKind.MUQ, DType.F32,
                null, ConvertOptions.DEFAULT_SHARD_BYTES), false);
        assertTrue(r2.skipped().isEmpty());
        assertEquals(r.tensors(), r2.tensors());
    }

    @Test void muqKeysOutsideModelAreRefusedWithTheExpectedNames(@TempDir Path tmp) throws IOException {
        Path f = tmp.resolve("bare.safetensors");
        bloom4j.tensor.io.SafeTensorsWriter.write(f, Map.of("conformer.layers.0.ffn1_layer_norm.weight",
                bloom4j.tensor.io.RawTensor.of(org.nd4j.linalg.factory.Nd4j.ones(4)),
                "conv.linear.weight", bloom4j.tensor.io.RawTensor.of(org.nd4j.linalg.factory.Nd4j.ones(4, 4))), Map.of());
        IOException e = assertThrows(IOException.class, () -> Converter.convert(new ConvertOptions(List.of(f), tmp.resolve("o"),
                ModelKind.MUQ, DType.F32, null, ConvertOptions.DEFAULT_SHARD_BYTES), false));
        assertTrue(e.getMessage().contains("keys under 'model.'"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
