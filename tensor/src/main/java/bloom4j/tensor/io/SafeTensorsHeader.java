package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.Shapes;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON header of a safetensors file: parsing with the reference reader's validation, and serialization as the reference writer
 * lays it out. Format: reference {@code safetensors/src/tensor.rs}
 * ({@code read_metadata} L390-425, {@code Metadata::validate} L627-664, {@code prepare} L218-265).
 *
 * @param metadata the {@code __metadata__} map in header order, or null when the header has none
 * @param entries  the tensors sorted by data offset (header order among equal offsets), offsets relative to the data section
 */
record SafeTensorsHeader(Map<String, String> metadata, List<Entry> entries) {

    /** Largest header the reference reader accepts (tensor.rs L10). */
    static final long MAX_HEADER_BYTES = 100_000_000;

    static final String METADATA_KEY = "__metadata__";

    /** One tensor of the header; {@code [begin, end)} is relative to the start of the data section. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {
        long byteSize() { return end - begin; }
    }

    private static final JsonFactory JSON = new JsonFactory();

    /** Name order of the reference writer: Rust compares strings by UTF-8 bytes, which is code point order, not UTF-16 order. */
    static final Comparator<String> CODE_POINT_ORDER = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    };

    /**
     * Parses and validates a header: {@code json} is the N header bytes, {@code dataSize} the file length minus (8 + N). Checks are
     * those of the reference reader: a JSON object starting with '{' in valid UTF-8; per tensor exactly dtype, shape and
     * data_offsets, a known dtype, non-negative integer dimensions and offsets; {@code __metadata__} string to string only; no
     * duplicate names; offsets contiguous from 0 without holes or overlaps; each tensor's byte size matching its shape; the data
     * section ending exactly at the end of the file.
     */
    static SafeTensorsHeader parse(Path file, byte[] json, long dataSize) throws CheckpointException {
        if (json.length == 0 || json[0] != '{') {
            throw new CheckpointException(file, "header must start with '{' (0x7B), got "
                    + (json.length == 0 ? "an empty header" : String.format("0x%02X", json[0] & 0xFF)));
        }
        Map<String, String> metadata = null;
        Map<String, Entry> entries = new LinkedHashMap<>();
        try (JsonParser p = JSON.createParser(decodeUtf8(file, json))) {
            p.nextToken(); // START_OBJECT: the first character is '{'
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (key.equals(METADATA_KEY)) {
                    if (metadata != null) throw new CheckpointException(file, "header has two " + METADATA_KEY + " entries");
                    metadata = parseMetadata(file, p);
                } else {
                    if (entries.containsKey(key)) {
                        throw new CheckpointException(file, "tensor " + quote(key) + " appears twice in the header");
                    }
                    entries.put(key, parseEntry(file, p, key));
                }
            }
            if (p.nextToken() != null) {
                throw new CheckpointException(file, "header has content after its JSON object, at " + where(p));
            }
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "header is not valid JSON: " + e.getOriginalMessage() + " at " + where(e), e);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) { // the parser reads from a String, so only its own errors can occur; keep them as corruption
            throw new CheckpointException(file, "header could not be parsed: " + e.getMessage(), e);
        }
        List<Entry> sorted = new ArrayList<>(entries.values());
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end)); // stable: equal offsets keep header order
        validateLayout(file, sorted, dataSize);
        return new SafeTensorsHeader(metadata == null ? null : Collections.unmodifiableMap(metadata), List.copyOf(sorted));
    }

    private static String decodeUtf8(Path file, byte[] json) throws CheckpointException {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(json);
        try {
            return dec.decode(in).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file, "header is not valid UTF-8 (" + e.getMessage() + ")", e);
        }
    }

    private static Map<String, String> parseMetadata(Path file, JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new CheckpointException(file, METADATA_KEY + " must be an object of strings, got " + describe(p));
        }
        Map<String, String> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING) {
                throw new CheckpointException(file, METADATA_KEY + " value of " + quote(key) + " must be a string, got "
                        + describe(p));
            }
            if (m.put(key, p.getText()) != null) {
                throw new CheckpointException(file, METADATA_KEY + " has key " + quote(key) + " twice");
            }
        }
        return m;
    }

    private static Entry parseEntry(Path file, JsonParser p, String name) throws IOException {
        String what = "tensor " + quote(name);
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new CheckpointException(file, what + ": expected an object with dtype, shape and data_offsets, got " + describe(p));
        }
        DType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            boolean seen;
            switch (key) {
                case "dtype" -> {
                    seen = dtype != null;
                    if (p.currentToken() != JsonToken.VALUE_STRING) {
                        throw new CheckpointException(file, what + ": dtype must be a string, got " + describe(p));
                    }
                    dtype = DType.fromSafetensors(p.getText());
                    if (dtype == null) {
                        throw new CheckpointException(file, what + ": unknown dtype " + quote(p.getText()) + " (expected one of "
                                + Arrays.toString(DType.values()) + ")");
                    }
                }
                case "shape" -> {
                    seen = shape != null;
                    shape = parseIntArray(file, p, what + ": shape", -1);
                }
                case "data_offsets" -> {
                    seen = offsets != null;
                    offsets = parseIntArray(file, p, what + ": data_offsets", 2);
                }
                default -> throw new CheckpointException(file, what + ": unknown key " + quote(key)
                        + " (expected exactly dtype, shape and data_offsets)");
            }
            if (seen) throw new CheckpointException(file, what + ": key " + quote(key) + " appears twice");
        }
        if (dtype == null || shape == null || offsets == null) {
            String missing = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw new CheckpointException(file, what + ": missing key '" + missing
                    + "' (expected exactly dtype, shape and data_offsets)");
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    /** An array of non-negative JSON integers; {@code length} is the required length, or -1 for any. */
    private static long[] parseIntArray(Path file, JsonParser p, String what, int length) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new CheckpointException(file, what + " must be an array of integers, got " + describe(p));
        }
        long[] out = new long[4];
        int n = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new CheckpointException(file, what + " must hold integers in [0, 2^63), got " + describe(p));
            }
            long v = p.getLongValue();
            if (v < 0) throw new CheckpointException(file, what + " must hold non-negative integers, got " + v);
            if (n == out.length) out = Arrays.copyOf(out, n * 2);
            out[n++] = v;
        }
        if (length >= 0 && n != length) {
            throw new CheckpointException(file, what + " must have " + length + " elements, got " + n);
        }
        return Arrays.copyOf(out, n);
    }

    private static void validateLayout(Path file, List<Entry> sorted, long dataSize) throws CheckpointException {
        long expectedBegin = 0;
        String previous = null;
        for (Entry e : sorted) {
            String what = "tensor " + quote(e.name);
            if (e.end < e.begin) {
                throw new CheckpointException(file, what + ": data_offsets [" + e.begin + ", " + e.end + "] end before they begin");
            }
            if (e.begin != expectedBegin) {
                String prev = previous == null ? "the data section starts at 0"
                        : "the previous tensor " + quote(previous) + " ends at " + expectedBegin;
                throw new CheckpointException(file, what + ": data_offsets begin at " + e.begin + ", expected " + expectedBegin + " ("
                        + prev + (e.begin < expectedBegin ? "; tensors overlap)" : "; a hole is not allowed)"));
            }
            long bits;
            try {
                bits = Math.multiplyExact(Shapes.numel(e.shape), (long) e.dtype.bits());
            } catch (ArithmeticException overflow) {
                throw new CheckpointException(file, what + ": shape " + Arrays.toString(e.shape) + " has too many elements");
            }
            if (bits % 8 != 0) {
                throw new CheckpointException(file, what + ": " + e.dtype + Arrays.toString(e.shape) + " is " + bits
                        + " bits, not a whole number of bytes");
            }
            if (e.end - e.begin != bits / 8) {
                throw new CheckpointException(file, what + ": " + e.dtype + Arrays.toString(e.shape) + " needs " + bits / 8
                        + " bytes, but data_offsets [" + e.begin + ", " + e.end + "] span " + (e.end - e.begin));
            }
            expectedBegin = e.end;
            previous = e.name;
        }
        if (expectedBegin != dataSize) {
            throw new CheckpointException(file, "the tensors' data ends at byte " + expectedBegin + " of the data section, but the "
                    + "file has " + dataSize + " bytes after the header (8 + header length + data end must equal the file length)");
        }
    }

    private static String describe(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) return "end of header";
        return switch (t) {
            case VALUE_STRING -> "string " + quote(p.getText());
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number " + p.getText();
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            default -> p.getText();
        };
    }

    /** A name for an error message, quoted and cut short: a hostile header may hold megabyte-long strings. */
    static String quote(String s) {
        return "'" + (s.length() > 200 ? s.substring(0, 200) + "...(" + s.length() + " chars)" : s) + "'";
    }

    private static String where(JsonParser p) { return "header character " + p.currentLocation().getCharOffset(); }

    private static String where(JsonProcessingException e) {
        return e.getLocation() == null ? "unknown position" : "header character " + e.getLocation().getCharOffset();
    }

    // ---- writing

    /**
     * The header bytes the reference writer produces for {@code entries} (already in layout order, offsets assigned): compact JSON,
     * {@code __metadata__} first when given, then the tensors in offset order, padded with spaces to a multiple of 8 bytes.
     */
    static byte[] serialize(Map<String, String> metadata, List<Entry> entries) {
        StringBuilder sb = new StringBuilder("{");
        if (metadata != null) {
            appendString(sb, METADATA_KEY);
            sb.append(":{");
            String sep = "";
            for (Map.Entry<String, String> kv : metadata.entrySet()) {
                sb.append(sep);
                appendString(sb, kv.getKey());
                sb.append(':');
                appendString(sb, kv.getValue());
                sep = ",";
            }
            sb.append('}');
        }
        for (Entry e : entries) {
            if (sb.length() > 1) sb.append(',');
            appendString(sb, e.name);
            sb.append(":{\"dtype\":\"").append(e.dtype.safetensorsName()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) sb.append(i == 0 ? "" : ",").append(e.shape[i]);
            sb.append("],\"data_offsets\":[").append(e.begin).append(',').append(e.end).append("]}");
        }
        sb.append('}');
        ByteBuffer utf8 = encodeUtf8(sb);
        int n = utf8.remaining();
        byte[] out = new byte[n + (8 - n % 8) % 8];
        utf8.get(out, 0, n);
        Arrays.fill(out, n, out.length, (byte) ' ');
        return out;
    }

    /** Strict UTF-8: a name or metadata string holding a lone surrogate has no UTF-8 form and is refused, not replaced by '?'. */
    private static ByteBuffer encodeUtf8(CharSequence s) {
        CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return enc.encode(CharBuffer.wrap(s));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("a tensor name or metadata string is not valid Unicode (lone surrogate)", e);
        }
    }

    /** A JSON string as serde_json writes it: only '"', '\\' and control characters escaped, {@code \\u00xx} in lower-case hex. */
    static void appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
