package bloom4j.convert;

import bloom4j.tensor.DType;
import bloom4j.tensor.Floats;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.PtCheckpoint;
import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConverterTest {
    @TempDir static Path shared;
    static Path fixture;

    @BeforeAll
    static void unpack() throws IOException {
        fixture = Fixture.unpackBundled("pt-formats", shared.resolve("pt-formats"));
    }

    private static ConvertOptions opts(List<Path> from, Path to, ModelKind kind, DType dtype, long shard) {
        return new ConvertOptions(from, to, kind, dtype, null, shard);
    }

    @Test
    void convertedFolderHoldsTheSameTensorsUnderTheSameNames(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("model");
        ConvertResult r = Converter.convert(opts(List.of(fixture.resolve("model.pt")), out, null, DType.F32, 1L << 30), false);
        assertEquals(ModelKind.SONGBLOOM, r.kind());
        assertEquals(List.of(out.resolve("model.safetensors")), r.weightFiles());
        try (TensorSource a = PtCheckpoint.openStateDict(fixture.resolve("model.pt")); TensorSource b = Checkpoints.open(out)) {
            assertEquals(new TreeSet<>(a.names()), new TreeSet<>(b.names()));
            for (String n : a.names()) {
                assertEquals(a.info(n), b.info(n), n);
                assertEquals(a.raw(n).bytes(), b.raw(n).bytes(), n);
            }
        }
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("songbloom", config.get("model_type").asText());
        assertEquals("float32", config.get("torch_dtype").asText());
        JsonNode prov = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals(Converter.sha256(fixture.resolve("model.pt"), false), prov.get("sources").get(0).get("sha256").asText());
        assertEquals(Files.size(fixture.resolve("model.pt")), prov.get("sources").get(0).get("bytes").asLong());
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("config.json"))));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(out)));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(out), s.toList(), "no staging folder is left behind");
        }
    }

    @Test
    void bf16ConversionRoundsFloatsToNearestEvenAndKeepsIntegers(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("bf16");
        Converter.convert(opts(List.of(fixture.resolve("dtypes.pt")), out, null, DType.BF16, 1L << 30), false);
        try (TensorSource a = PtCheckpoint.openStateDict(fixture.resolve("dtypes.pt")); TensorSource b = Checkpoints.open(out)) {
            assertEquals(DType.I64, b.info("i64").dtype());
            assertEquals(a.raw("i64").bytes(), b.raw("i64").bytes());
            RawTensor src = a.raw("f32"), dst = b.raw("f32");
            assertEquals(DType.BF16, dst.dtype());
            ByteBuffer s = src.bytes(), d = dst.bytes();
            for (int i = 0; i < src.numel(); i++) {
                assertEquals(Floats.floatToBf16(s.getFloat(4 * i)), d.getShort(2 * i), "element " + i);
            }
            assertEquals(a.raw("bf16").bytes(), b.raw("bf16").bytes(), "bf16 stays bit-identical");
        }
    }

    @Test
    void shardsAboveTheLimitAndReloadsAsOne(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("sharded");
        ConvertResult r = Converter.convert(opts(List.of(fixture.resolve("model.pt")), out, null, DType.F32, 200), false);
        assertTrue(r.weightFiles().size() > 2, r.weightFiles().toString());
        assertTrue(Files.exists(out.resolve("model.safetensors.index.json")));
        try (TensorSource a = PtCheckpoint.openStateDict(fixture.resolve("model.pt")); TensorSource b = Checkpoints.open(out)) {
            for (String n : a.names()) assertEquals(a.raw(n).bytes(), b.raw(n).bytes(), n);
            assertEquals(a.names().size(), b.names().size());
        }
    }

    @Test
    void lightningCheckpointConvertsItsStateDict(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("from-ckpt");
        ConvertResult r = Converter.convert(opts(List.of(fixture.resolve("lightning_omegaconf.ckpt")), out, null, DType.F32, 1L << 30), false);
        assertEquals(3, r.tensors());
        try (TensorSource b = Checkpoints.open(out)) {
            assertEquals(Set.of("model.block_conv.1.weight", "model.block_conv.1.bias", "model.bos_token"), Set.copyOf(b.names()));
        }
    }

    @Test
    void neverOverwritesAnExistingModel(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("model");
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertThrows(FileAlreadyExistsException.class,
                () -> Converter.convert(opts(List.of(fixture.resolve("model.pt")), out, null, DType.F32, 1L << 30), false));
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    }

    @Test
    void aFailedConversionLeavesNoFolder(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("model");
        // the same tensor names in two sources: refused before anything is written
        IOException e = assertThrows(IOException.class, () -> Converter.convert(
                opts(List.of(fixture.resolve("model.pt"), fixture.resolve("model.pt")), out, null, DType.F32, 1L << 30), false));
        assertTrue(e.getMessage().contains("is in both"), e.getMessage());
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(0, s.count());
        }
    }

    @Test
    void aKindThatDoesNotMatchTheNamesIsRefused(@TempDir Path tmp) {
        IOException e = assertThrows(IOException.class, () -> Converter.convert(
                opts(List.of(fixture.resolve("model.pt")), tmp.resolve("m"), ModelKind.ZIPVOICE, DType.F32, 1L << 30), false));
        assertTrue(e.getMessage().contains("--model zipvoice") && e.getMessage().contains("songbloom"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("m")));
    }

    @Test
    void modelKindsAreDetectedFromParameterNames() {
        assertEquals(ModelKind.SONGBLOOM, ModelKind.detect(List.of("model.ar_transformer.layers.0.self_attn.q_proj.weight",
                "vae.vae.encoder.layers.0.weight_g")));
        assertEquals(ModelKind.MUQ, ModelKind.detect(List.of("model.conformer.layers.0.ffn1.w", "model.conv.conv.0.conv1.weight")));
        assertEquals(ModelKind.ZIPVOICE, ModelKind.detect(List.of("fm_decoder.in_proj.weight", "text_encoder.x")));
        assertEquals(ModelKind.VOCOS, ModelKind.detect(List.of("backbone.embed.weight", "head.out.weight")));
        assertEquals(ModelKind.VAE, ModelKind.detect(List.of("encoder.layers.0.weight_g", "decoder.layers.0.weight_g")));
        assertEquals(ModelKind.VQ, ModelKind.detect(List.of("_codebook.embed")));
        assertEquals(ModelKind.GENERIC, ModelKind.detect(List.of("blocks.0.proj.weight")));
    }

    @Test
    void optionsAreValidatedWithActionableMessages(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> opts(List.of(tmp.resolve("nope.pt")), tmp.resolve("o"), null, DType.F32, 1));
        assertTrue(e.getMessage().contains("nope.pt") && e.getMessage().contains("no such file"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> opts(List.of(fixture.resolve("model.pt")), tmp.resolve("o"), null, DType.I64, 1));
        assertTrue(e.getMessage().contains("--dtype"), e.getMessage());
    }
}
