package bloom4j.tensor.util;

/**
 * Text from a file (tensor names, metadata, JSON strings) made safe to print on a terminal: a checkpoint can carry names with escape
 * sequences that would move the cursor, retitle the window or hide text. Control characters (C0, DEL, C1), the bidirectional
 * overrides and isolates, and the backslash itself are written as Java-style escapes, so the printed form is unambiguous and
 * reversible; everything else, including non-Latin letters, prints as it is.
 */
public final class Printable {
    private Printable() {}

    public static String escape(String s) {
        if (s == null) return "null";
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = replacement(c);
            if (rep == null) {
                if (b != null) b.append(c);
                continue;
            }
            if (b == null) b = new StringBuilder(s.length() + 16).append(s, 0, i);
            b.append(rep);
        }
        return b == null ? s : b.toString();
    }

    private static String replacement(char c) {
        switch (c) {
            case '\\': return "\\\\";
            case '\n': return "\\n";
            case '\r': return "\\r";
            case '\t': return "\\t";
            default:
        }
        boolean control = c < 0x20 || (c >= 0x7F && c <= 0x9F);
        boolean bidi = (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F;
        return control || bidi ? String.format("\\u%04x", (int) c) : null;
    }
}
