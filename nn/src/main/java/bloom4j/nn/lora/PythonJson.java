package bloom4j.nn.lora;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * JSON text laid out as Python's {@code json.dumps(obj, indent=2, sort_keys=True)} writes it, which is how PEFT writes
 * {@code adapter_config.json} ({@code PeftConfigMixin.save_pretrained}, config.py L132-163): two-space indent, {@code ", "} and
 * {@code ": "} separators, keys sorted by code point, empty containers as {@code {}} / {@code []}, non-ASCII escaped, floats in
 * Python's repr, no trailing newline. Writing the same layout lets a file bloom4j rewrites compare equal, byte for byte, to PEFT's.
 */
final class PythonJson {
    private PythonJson() {}

    static String dumps(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        write(sb, node, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, JsonNode n, int depth) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            sb.append("null");
        } else if (n.isBoolean()) {
            sb.append(n.booleanValue() ? "true" : "false");
        } else if (n.isIntegralNumber()) {
            sb.append(n.bigIntegerValue());
        } else if (n.isNumber()) {
            sb.append(pythonFloat(n.doubleValue()));
        } else if (n.isTextual()) {
            string(sb, n.textValue());
        } else if (n.isArray()) {
            if (n.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            String sep = "\n";
            for (JsonNode e : n) {
                sb.append(sep).append("  ".repeat(depth + 1));
                write(sb, e, depth + 1);
                sep = ",\n";
            }
            sb.append('\n').append("  ".repeat(depth)).append(']');
        } else if (n.isObject()) {
            if (n.isEmpty()) {
                sb.append("{}");
                return;
            }
            TreeMap<String, JsonNode> sorted = new TreeMap<>();   // String.compareTo is UTF-16 order, = code points outside surrogates
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                sorted.put(k, n.get(k));
            }
            sb.append('{');
            String sep = "\n";
            for (var e : sorted.entrySet()) {
                sb.append(sep).append("  ".repeat(depth + 1));
                string(sb, e.getKey());
                sb.append(": ");
                write(sb, e.getValue(), depth + 1);
                sep = ",\n";
            }
            sb.append('\n').append("  ".repeat(depth)).append('}');
        } else {
            throw new IllegalArgumentException("cannot write JSON node of type " + n.getNodeType());
        }
    }

    /** Python's {@code json} string escaping with {@code ensure_ascii=True}. */
    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    /**
     * {@code repr(float)}: the shortest digits that read back to the same double, positional when the decimal exponent is in
     * [-4, 16), else {@code d.ddde±XX}; integral values keep a {@code .0}.
     */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal b = new BigDecimal(shortest(d)).stripTrailingZeros();
        String digits = b.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - b.scale();           // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp >= -4 && exp < 16) {
            String plain = b.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mant + "e" + (exp < 0 ? "-" : "+") + String.format(Locale.ROOT, "%02d", Math.abs(exp));
    }

    /** The shortest decimal that parses back to {@code d} (JDK 17's Double.toString is not always the shortest). */
    private static String shortest(double d) {
        for (int p = 0; p <= 16; p++) {
            String s = String.format(Locale.ROOT, "%." + p + "e", d);
            if (Double.parseDouble(s) == d) return s;
        }
        return Double.toString(d);
    }

    /** Field names of an object node, in order. */
    static List<String> fieldNames(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
