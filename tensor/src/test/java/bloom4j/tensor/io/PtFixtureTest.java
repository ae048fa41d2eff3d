package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.pickle.PyGlobal;
import bloom4j.tensor.pickle.PyObject;
import bloom4j.tensor.pickle.PyOrderedDict;
import bloom4j.tensor.pickle.PyTuple;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The pt-formats fixture, written by torch.save: every tensor of every file equals the expected values in io.safetensors exactly,
 * and every object tree matches the one fixture.json records (containers, scalars, tensor dtype/shape/stride/offset).
 */
class PtFixtureTest {
    static Path dir;
    static Map<String, ExpectedTensors.Expected> expected;
    static JsonNode fixture;

    @BeforeAll
    static void load() throws Exception {
        dir = fixtureDir();
        expected = ExpectedTensors.read(dir.resolve("io.safetensors"));
        fixture = new ObjectMapper().readTree(dir.resolve("fixture.json").toFile());
    }

    static Path fixtureDir() { return bloom4j.tensor.parity.TestFixtures.dir("pt-formats"); }

    @ParameterizedTest
    @ValueSource(strings = {"model.pt", "lightning.ckpt", "lightning_omegaconf.ckpt", "dtypes.pt", "dtypes_extra.pt", "views.pt",
            "nested.pt"})
    void everyTensorEqualsExpectedValuesExactly(String name) throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve(name))) {
            Map<String, PtTensor> flat = c.flatten();
            Set<String> want = new TreeSet<>();
            for (String k : expected.keySet()) if (k.startsWith(name + "/")) want.add(k);
            Set<String> got = new TreeSet<>();
            for (String k : flat.keySet()) got.add(name + "/" + k);
            assertEquals(want, got, "tensor paths of " + name);
            for (Map.Entry<String, PtTensor> e : flat.entrySet()) {
                String key = name + "/" + e.getKey();
                assertValues(key, expected.get(key), e.getValue().raw());
            }
        }
    }

    static void assertValues(String key, ExpectedTensors.Expected want, RawTensor got) {
        assertArrayEquals(want.shape(), got.shape(), key + " shape");
        ByteBuffer b = got.bytes();
        int n = (int) got.numel();
        if (want.floats() != null) {
            assertTrue(got.dtype().isFloatingPoint(), key + " dtype " + got.dtype());
            assertEquals(want.floats().length, n, key);
            for (int i = 0; i < n; i++) {
                float g = (float) got.doubleAt(b, i); // f64 rounds to f32, as the fixture's expected values do
                if (Float.floatToRawIntBits(g) != Float.floatToRawIntBits(want.floats()[i])) {
                    fail(key + "[" + i + "]: expected " + want.floats()[i] + ", got " + g);
                }
            }
        } else {
            assertTrue(got.dtype().isInteger(), key + " dtype " + got.dtype());
            long[] g = new long[n];
            for (int i = 0; i < n; i++) g[i] = got.longAt(b, i);
            assertArrayEquals(want.longs(), g, key);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.pt", "lightning.ckpt", "lightning_omegaconf.ckpt", "dtypes.pt", "dtypes_extra.pt", "views.pt",
            "nested.pt"})
    void objectTreeMatchesFixtureJson(String name) throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve(name))) {
            assertTree(name, fixture.get("files").get(name).get("content"), c.root(), c);
        }
    }

    /** Compares a value of the object tree with fixture.json's rendering of what torch.load returned. */
    static void assertTree(String at, JsonNode want, Object got, PtCheckpoint c) throws Exception {
        if (want.isNull()) {
            assertNull(got, at);
        } else if (want.isBoolean()) {
            assertEquals(want.asBoolean(), got, at);
        } else if (want.isIntegralNumber()) {
            Object w = want.bigIntegerValue().bitLength() < 64 ? (Object) want.asLong() : want.bigIntegerValue();
            assertEquals(w, got, at);
        } else if (want.isFloatingPointNumber()) {
            assertEquals(want.asDouble(), (Double) got, 0.0, at);
        } else if (want.isTextual()) {
            assertEquals(want.asText(), got, at);
        } else {
            Map.Entry<String, JsonNode> e = want.fields().next();
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "dict", "OrderedDict" -> {
                    assertInstanceOf(Map.class, got, at);
                    assertEquals(e.getKey().equals("OrderedDict"), got instanceof PyOrderedDict, at + " OrderedDict-ness");
                    Map<?, ?> m = (Map<?, ?>) got;
                    List<Object> keys = new ArrayList<>(m.keySet());
                    assertEquals(v.size(), keys.size(), at + " size");
                    for (int i = 0; i < v.size(); i++) {
                        JsonNode k = v.get(i).get(0);
                        Object wantKey = k.isIntegralNumber() ? (Object) k.asLong() : k.asText();
                        assertEquals(wantKey, keys.get(i), at + " key " + i + " (insertion order)");
                        assertTree(at + "/" + wantKey, v.get(i).get(1), m.get(wantKey), c);
                    }
                }
                case "list", "tuple" -> {
                    List<?> l;
                    if (e.getKey().equals("list")) l = assertInstanceOf(ArrayList.class, got, at);
                    else l = assertInstanceOf(PyTuple.class, got, at).items();
                    assertEquals(v.size(), l.size(), at + " size");
                    for (int i = 0; i < v.size(); i++) assertTree(at + "/" + i, v.get(i), l.get(i), c);
                }
                case "bytes" -> {
                    byte[] b = assertInstanceOf(byte[].class, got, at);
                    byte[] w = new byte[v.size()];
                    for (int i = 0; i < w.length; i++) w[i] = (byte) v.get(i).asInt();
                    assertArrayEquals(w, b, at);
                }
                case "object" -> assertEquals(v.asText(), assertInstanceOf(PyObject.class, got, at).type().qualifiedName(), at);
                case "tensor" -> assertTensor(at, v, assertInstanceOf(PtTensor.class, got, at));
                default -> fail(at + ": unknown fixture node " + e.getKey());
            }
        }
    }

    static void assertTensor(String at, JsonNode w, PtTensor t) {
        assertEquals(DType.fromTorchName(w.get("dtype").asText()), t.dtype(), at + " dtype");
        assertArrayEquals(longs(w.get("shape")), t.shape(), at + " shape");
        assertArrayEquals(longs(w.get("stride")), t.stride(), at + " stride");
        assertEquals(w.get("storage_offset").asLong(), t.storageOffset(), at + " storage offset");
        assertEquals(w.get("contiguous").asBoolean(), t.isContiguous(), at + " contiguous");
        assertEquals(w.get("requires_grad").asBoolean(), t.requiresGrad(), at + " requires_grad");
        assertEquals(w.get("class").asText().equals("torch.nn.Parameter"), t.isParameter(), at + " parameter");
        assertEquals(w.get("io_key").asText(), at, "fixture io_key is the flatten path");
    }

    static long[] longs(JsonNode a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asLong();
        return out;
    }

    @Test
    void stateDictOfPlainCheckpointListsNamesInPickleOrder() throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("model.pt"))) {
            assertEquals("model/", c.archiveRoot());
            assertFalse(c.bigEndian());
            TensorSource s = c.stateDict();
            List<String> want = new ArrayList<>();
            for (JsonNode kv : fixture.get("files").get("model.pt").get("content").get("OrderedDict")) want.add(kv.get(0).asText());
            assertEquals(want, s.names());
            assertEquals(DType.F32, s.info("vae.vae.encoder.layers.0.weight_v").dtype());
            assertArrayEquals(new long[]{4, 2, 7}, s.info("vae.vae.encoder.layers.0.weight_v").shape());
            assertValues("model.pt/model.skeleton_emb.weight", expected.get("model.pt/model.skeleton_emb.weight"),
                    s.raw("model.skeleton_emb.weight"));
            float[] f = s.loadFloat("model.bos_token").toFloatVector();
            assertArrayEquals(expected.get("model.pt/model.bos_token").floats(), f);
        }
    }

    @Test
    void stateDictOfLightningCheckpointIsItsStateDictKey() throws Exception {
        for (String name : List.of("lightning.ckpt", "lightning_omegaconf.ckpt")) {
            try (TensorSource s = PtCheckpoint.openStateDict(dir.resolve(name))) {
                assertEquals(List.of("model.block_conv.1.weight", "model.block_conv.1.bias", "model.bos_token"), s.names());
                assertTrue(s.description().endsWith("[state_dict]"), s.description());
                assertValues(name, expected.get(name + "/state_dict/model.block_conv.1.weight"), s.raw("model.block_conv.1.weight"));
            }
        }
    }

    @Test
    void tensorsAtAnExplicitPathWithIntKeys() throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("lightning.ckpt"))) {
            TensorSource s = c.tensors("optimizer_states", "0", "state", "1");
            assertEquals(List.of("step", "exp_avg", "exp_avg_sq"), s.names());
            assertValues("exp_avg", expected.get("lightning.ckpt/optimizer_states/0/state/1/exp_avg"), s.raw("exp_avg"));
            assertArrayEquals(new long[0], s.info("step").shape());
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> c.tensors("optimizer_states", "0", "param_groups", "0"));
            assertTrue(e.getMessage().contains("'optimizer_states/0/param_groups/0/lr' is a float, not a tensor"), e.getMessage());
            e = assertThrows(CheckpointException.class, () -> c.tensors("optimizer_states", "7"));
            assertTrue(e.getMessage().contains("no '7' in 'optimizer_states'"), e.getMessage());
            e = assertThrows(CheckpointException.class, () -> c.stateDict().raw("nope"));
            assertTrue(e.getMessage().contains("no tensor 'nope'"), e.getMessage());
        }
    }

    @Test
    void nestedValuesHaveTheirJavaTypes() throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("nested.pt"))) {
            Map<?, ?> root = (Map<?, ?>) c.root();
            assertFalse(root instanceof PyOrderedDict);
            Map<?, ?> meta = (Map<?, ?>) root.get("meta");
            assertEquals(7L, meta.get("int"));
            assertEquals(-12345678901L, meta.get("neg"));
            assertEquals(0.25, meta.get("float"));
            assertEquals("x", meta.get("str"));
            assertTrue(meta.containsKey("none"));
            assertNull(meta.get("none"));
            assertEquals(Boolean.TRUE, meta.get("bool"));
            assertEquals(PyTuple.of(1L, 2L), meta.get("tuple"));
            assertEquals(List.of(1.5, "y"), meta.get("list"));
            assertArrayEquals(new byte[]{0, 1}, (byte[]) meta.get("bytes"));
            assertEquals("int key", root.get(7L));
            PtTensor param = (PtTensor) root.get("param");
            assertTrue(param.isParameter());
            assertTrue(param.requiresGrad());
            PyOrderedDict od = (PyOrderedDict) root.get("od");
            assertEquals(List.of("z", "y"), new ArrayList<>(od.keySet()));
            assertEquals(DType.I64, ((PtTensor) od.get("y")).dtype());
            // a dict of mixed values is not a state dict; the fallback finds the first dict of tensors
            assertEquals("od", c.stateDict().description().replaceAll(".*\\[(.*)]", "$1"));
        }
    }

    @Test
    void viewsShareStoragesAndContiguousOnesAreMappedSlices() throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("views.pt"))) {
            Map<String, PtTensor> t = c.flatten();
            assertEquals(t.get("transposed").storageKey(), t.get("base").storageKey());
            assertEquals(t.get("shared_a").storageKey(), t.get("shared_b").storageKey());
            assertTrue(t.get("base").raw().data().isDirect(), "contiguous: a slice of the mapping");
            assertFalse(t.get("transposed").raw().data().isDirect(), "transposed: gathered");
            assertEquals(0, t.get("empty").raw().data().remaining());
            // transposed is base.T: element (i, j) of one is (j, i) of the other
            ByteBuffer a = t.get("transposed").raw().bytes();
            ByteBuffer b = t.get("base").raw().bytes();
            for (int i = 0; i < 5; i++) for (int j = 0; j < 3; j++) assertEquals(b.getFloat(4 * (j * 5 + i)), a.getFloat(4 * (i * 3 + j)));
        }
    }

    @Test
    void flattenPathsAreTheFixtureIoKeys() throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("lightning.ckpt"))) {
            assertTrue(c.flatten().containsKey("callbacks/ModelCheckpoint{'monitor': 'valid_loss', 'mode': 'min'}/best_model_score"));
            assertTrue(c.flatten().containsKey("optimizer_states/0/state/0/exp_avg"));
        }
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("nested.pt"))) {
            assertEquals(List.of("a/0", "a/1/b", "a/1/c/0", "param", "od/z", "od/y"), new ArrayList<>(c.flatten().keySet()));
        }
    }

    @Test
    void omegaconfHyperParametersAreRecordedNotRun() throws Exception {
        try (PtCheckpoint c = PtCheckpoint.open(dir.resolve("lightning_omegaconf.ckpt"))) {
            PyObject cfg = (PyObject) ((Map<?, ?>) c.root()).get("hyper_parameters");
            assertEquals(new PyGlobal("omegaconf.dictconfig", "DictConfig"), cfg.type());
            PyObject meta = (PyObject) cfg.attributes().get("_metadata");
            assertEquals("omegaconf.base.ContainerMetadata", meta.type().qualifiedName());
            assertEquals(new PyGlobal("typing", "Any"), meta.attributes().get("ref_type"));
            assertEquals(new PyGlobal("builtins", "dict"), meta.attributes().get("object_type")); // __builtin__ normalised
            assertInstanceOf(LinkedHashMap.class, meta.attributes().get("resolver_cache")); // a defaultdict
            Map<?, ?> content = (Map<?, ?>) cfg.attributes().get("_content");
            assertEquals(List.of("model", "sr", "vae"), new ArrayList<>(content.keySet()));
            PyObject sr = (PyObject) content.get("sr");
            assertEquals("omegaconf.nodes.AnyNode", sr.type().qualifiedName());
            assertEquals(48000L, sr.attributes().get("_val"));
        }
    }
}
