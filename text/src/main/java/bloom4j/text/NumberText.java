package bloom4j.text;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The part of reading numbers aloud that every language shares: finding them in text and reading a decimal part digit by digit. */
public final class NumberText {
    private NumberText() {}

    private static final Pattern NUMBER = Pattern.compile("[0-9]+(\\.[0-9]+)?");

    /** {@code text} with every ASCII number ({@code 12}, {@code 3.14}) replaced by {@code read} of it. */
    public static String replaceAll(String text, Function<String, String> read) {
        Matcher m = NUMBER.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) m.appendReplacement(b, Matcher.quoteReplacement(read.apply(m.group())));
        m.appendTail(b);
        return b.toString();
    }

    /**
     * A number's reading: {@code integer} of the whole part, then {@code point} and each decimal digit's word.
     *
     * @param digits the words for 0..9
     */
    public static String read(String number, Function<String, String> integer, String point, String[] digits) {
        int dot = number.indexOf('.');
        StringBuilder b = new StringBuilder(integer.apply(dot < 0 ? number : number.substring(0, dot)));
        if (dot >= 0) {
            b.append(point);
            for (char c : number.substring(dot + 1).toCharArray()) b.append(digits[c - '0']);
        }
        return b.toString();
    }

    /** Digits read one by one (numbers too long for place values). */
    public static String digitByDigit(String number, String[] digits) {
        StringBuilder b = new StringBuilder();
        for (char c : number.toCharArray()) b.append(digits[c - '0']);
        return b.toString();
    }

    /** The most digits {@link #myriads} reads: four groups of four (below 10^16). */
    public static final int MAX_MYRIAD_DIGITS = 16;

    /**
     * The 4-digit groups of a number written in ASCII digits, highest first ({@code [10^12s, 10^8s, 10^4s, ones]}): the unit of
     * East Asian number words (万/億/兆, 万/亿). Null when it has more than {@value #MAX_MYRIAD_DIGITS} digits after its leading zeros.
     */
    public static int[] myriads(String digits) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        if (d.length() > MAX_MYRIAD_DIGITS) return null;
        long v = Long.parseLong(d);
        int[] g = new int[4];
        for (int i = 3; i >= 0; i--, v /= 10000) g[i] = (int) (v % 10000);
        return g;
    }
}
