package bloom4j.models.songbloom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * TEST SCAFFOLDING, TEMPORARY: just enough reading of the fixture files for the songbloom tests while the real readers
 * ({@code bloom4j.tensor.io.SafeTensorsFile}, {@code bloom4j.tensor.io.PtCheckpoint}) are being written on other branches.
 * Replace every use by those readers once they are merged; nothing outside these tests may depend on this class.
 *
 * <ul>
 *   <li>{@link #safetensors}: u64 little-endian header length, JSON header, F32 and I64 tensors only.</li>
 *   <li>{@link #torchZipFloatStorages}: the raw float32 storages of a {@code torch.save} zip, by entry name, <b>without</b> reading
 *       the pickle (so without key names, shapes, strides or offsets). Only usable for a file whose storages can be told apart by
 *       byte size and are plain contiguous tensors, as in the songbloom-lyrics fixture.</li>
 * </ul>
 */
final class InterimFixtureReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private InterimFixtureReader() {}

    /** One tensor: F32 data in {@code f}, I64 data in {@code l}. */
    record Tensor(String dtype, long[] shape, float[] f, long[] l) {
        int[] ints() {
            int[] out = new int[l.length];
            for (int i = 0; i < l.length; i++) out[i] = Math.toIntExact(l[i]);
            return out;
        }
    }

    /** A test resource folder, e.g. {@code fixtures/songbloom-lyrics}. */
    static Path resource(String path) {
        URL url = InterimFixtureReader.class.getResource("/" + path);
        if (url == null) throw new IllegalStateException("test resource /" + path + " is missing");
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(Path file) throws IOException { return JSON.readTree(file.toFile()); }

    static Map<String, Tensor> safetensors(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        if (n <= 0 || 8 + n > all.length) throw new IOException(file + ": bad header length " + n);
        JsonNode header = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        int base = 8 + (int) n;
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            String dtype = t.get("dtype").asText();
            List<Long> dims = new ArrayList<>();
            t.get("shape").forEach(d -> dims.add(d.asLong()));
            long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
            long count = 1;
            for (long d : shape) count *= d;
            int begin = base + t.get("data_offsets").get(0).asInt();
            int end = base + t.get("data_offsets").get(1).asInt();
            ByteBuffer data = ByteBuffer.wrap(all, begin, end - begin).slice().order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case "F32" -> {
                    if (end - begin != count * 4) throw new IOException(file + ": " + e.getKey() + " size mismatch");
                    float[] f = new float[(int) count];
                    data.asFloatBuffer().get(f);
                    out.put(e.getKey(), new Tensor(dtype, shape, f, null));
                }
                case "I64" -> {
                    if (end - begin != count * 8) throw new IOException(file + ": " + e.getKey() + " size mismatch");
                    long[] l = new long[(int) count];
                    data.asLongBuffer().get(l);
                    out.put(e.getKey(), new Tensor(dtype, shape, null, l));
                }
                default -> throw new IOException(file + ": " + e.getKey() + " has dtype " + dtype + ", this scaffolding reads F32/I64 only");
            }
        }
        return out;
    }

    /** Raw float32 little-endian storages ({@code <archive>/data/<key>} entries) of a torch zip, keyed by storage key. */
    static Map<String, float[]> torchZipFloatStorages(Path file) throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (Iterator<? extends ZipEntry> it = zip.entries().asIterator(); it.hasNext(); ) {
                ZipEntry e = it.next();
                String name = e.getName();
                int slash = name.indexOf('/');
                if (slash < 0 || !name.startsWith("data/", slash + 1)) continue;
                byte[] bytes;
                try (InputStream in = zip.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                if (bytes.length % 4 != 0) throw new IOException(file + ": storage " + name + " is not float32-sized");
                float[] f = new float[bytes.length / 4];
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
                out.put(name.substring(slash + "/data/".length()), f);
            }
        }
        return out;
    }
}
