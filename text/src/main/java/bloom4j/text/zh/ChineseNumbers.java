package bloom4j.text.zh;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Arabic numbers as Chinese number words before G2P, as upstream's {@code cn2an.transform(text, "an2cn")}: integers up to
 * 10^16 − 1 read with 十/百/千/万/亿 (一十 at the start is 十; inner zeros read 零 once), a decimal part digit by digit after 点.
 */
public final class ChineseNumbers {
    private ChineseNumbers() {}

    private static final String DIGITS = "零一二三四五六七八九";
    private static final Pattern NUMBER = Pattern.compile("[0-9]+(\\.[0-9]+)?");

    public static String replaceAll(String text) {
        Matcher m = NUMBER.matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) m.appendReplacement(b, Matcher.quoteReplacement(read(m.group())));
        m.appendTail(b);
        return b.toString();
    }

    public static String read(String number) {
        int dot = number.indexOf('.');
        String whole = dot < 0 ? number : number.substring(0, dot);
        StringBuilder b = new StringBuilder(integer(whole));
        if (dot >= 0) {
            b.append('点');
            for (char c : number.substring(dot + 1).toCharArray()) b.append(DIGITS.charAt(c - '0'));
        }
        return b.toString();
    }

    static String integer(String digits) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        if (d.length() > 16) {
            StringBuilder b = new StringBuilder();
            for (char c : digits.toCharArray()) b.append(DIGITS.charAt(c - '0'));
            return b.toString();
        }
        long v = Long.parseLong(d);
        if (v == 0) return "零";
        String[] big = {"", "万", "亿", "万亿"};
        StringBuilder b = new StringBuilder();
        boolean zero = false;
        boolean started = false;
        for (int g = 3; g >= 0; g--) {
            long part = v / pow(4 * g) % 10000;
            if (part == 0) {
                if (started) zero = true;
                continue;
            }
            if (started && (zero || part < 1000)) b.append('零');
            b.append(under10000((int) part, !started));
            b.append(big[g]);
            started = true;
            zero = false;
        }
        return b.toString();
    }

    private static String under10000(int n, boolean leading) {
        String[] unit = {"千", "百", "十", ""};
        int[] d = {n / 1000, n / 100 % 10, n / 10 % 10, n % 10};
        StringBuilder b = new StringBuilder();
        boolean started = false, zero = false;
        for (int i = 0; i < 4; i++) {
            if (d[i] == 0) {
                if (started) zero = true;
                continue;
            }
            if (zero) b.append('零');
            if (!(d[i] == 1 && i == 2 && !started && leading)) b.append(DIGITS.charAt(d[i]));
            b.append(unit[i]);
            started = true;
            zero = false;
        }
        return b.toString();
    }

    private static long pow(int e) {
        long r = 1;
        for (int i = 0; i < e; i++) r *= 10;
        return r;
    }
}
