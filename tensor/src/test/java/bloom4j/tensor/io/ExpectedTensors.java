package bloom4j.tensor.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test scaffolding, not a safetensors reader: parses the fixture's io.safetensors just enough to get expected values (u64 LE
 * header length, JSON header, F32 and I64 data only). To be replaced by {@code SafeTensorsFile} once that exists.
 */
final class ExpectedTensors {
    /** Expected values of one tensor: exactly one of {@code floats} and {@code longs} is set. */
    record Expected(long[] shape, float[] floats, long[] longs) {}

    private ExpectedTensors() {}

    static Map<String, Expected> read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int headerLen = Math.toIntExact(b.getLong(0));
        JsonNode header = new ObjectMapper().readTree(new String(all, 8, headerLen, StandardCharsets.UTF_8));
        int base = 8 + headerLen;
        Map<String, Expected> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.get("shape").get(i).asLong();
            int begin = base + t.get("data_offsets").get(0).asInt();
            int end = base + t.get("data_offsets").get(1).asInt();
            switch (t.get("dtype").asText()) {
                case "F32" -> {
                    float[] f = new float[(end - begin) / 4];
                    for (int i = 0; i < f.length; i++) f[i] = b.getFloat(begin + 4 * i);
                    out.put(e.getKey(), new Expected(shape, f, null));
                }
                case "I64" -> {
                    long[] l = new long[(end - begin) / 8];
                    for (int i = 0; i < l.length; i++) l[i] = b.getLong(begin + 8 * i);
                    out.put(e.getKey(), new Expected(shape, null, l));
                }
                default -> throw new IllegalStateException("scaffold reads F32/I64 only, got " + t.get("dtype"));
            }
        }
        return out;
    }
}
