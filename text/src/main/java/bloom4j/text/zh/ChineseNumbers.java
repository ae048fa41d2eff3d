package bloom4j.text.zh;

import bloom4j.text.NumberText;

/**
 * Arabic numbers as Chinese number words before G2P, as upstream's {@code cn2an.transform(text, "an2cn")}: integers up to
 * 10^16 − 1 read with 十/百/千/万/亿 (一十 at the start is 十; inner zeros read 零 once), a decimal part digit by digit after 点.
 */
public final class ChineseNumbers {
    private ChineseNumbers() {}

    private static final String[] DIGITS = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};

    public static String replaceAll(String text) { return NumberText.replaceAll(text, ChineseNumbers::read); }

    public static String read(String number) { return NumberText.read(number, ChineseNumbers::integer, "点", DIGITS); }

    static String integer(String digits) {
        int[] groups = NumberText.myriads(digits);
        if (groups == null) return NumberText.digitByDigit(digits, DIGITS);
        String[] big = {"", "万", "亿", "万亿"};
        StringBuilder b = new StringBuilder();
        boolean zero = false;
        boolean started = false;
        for (int g = 3; g >= 0; g--) {
            int part = groups[3 - g];
            if (part == 0) {
                if (started) zero = true;
                continue;
            }
            if (started && (zero || part < 1000)) b.append('零');
            b.append(under10000(part, !started));
            b.append(big[g]);
            started = true;
            zero = false;
        }
        return b.length() == 0 ? "零" : b.toString();
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
            if (!(d[i] == 1 && i == 2 && !started && leading)) b.append(DIGITS[d[i]]);
            b.append(unit[i]);
            started = true;
            zero = false;
        }
        return b.toString();
    }
}
