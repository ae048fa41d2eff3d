package bloom4j.text.ja;

import bloom4j.text.NumberText;

/**
 * Arabic numbers read as Japanese number words in katakana, grouped by 万/億/兆, with the sound changes of OpenJTalk's digit
 * reader ({@code njd_set_digit}): 三百 サンビャク, 六百 ロッピャク, 八百 ハッピャク, 三千 サンゼン, 八千 ハッセン, 一千 at the start
 * → セン, 百 alone → ヒャク, 一兆 イッチョウ, 八兆 ハッチョウ, 十兆 ジュッチョウ. A decimal point reads テン and the digits after it are
 * read one by one. Up to 10^16 − 1; longer digit strings are read digit by digit. Counters after an Arabic number are read by
 * the dictionary without counter sound changes (一本 written 1本 reads イチホン): approximate, as OpenJTalk is for some.
 */
public final class JapaneseNumbers {
    private JapaneseNumbers() {}

    private static final String[] DIGIT = {"ゼロ", "イチ", "ニ", "サン", "ヨン", "ゴ", "ロク", "ナナ", "ハチ", "キュウ"};
    /** {@code text} with every Arabic number replaced by its katakana reading. */
    public static String replaceAll(String text) { return NumberText.replaceAll(text, JapaneseNumbers::read); }

    /** The reading of one number written in ASCII digits, with an optional decimal part. */
    public static String read(String number) { return NumberText.read(number, JapaneseNumbers::integer, "テン", DIGIT); }

    static String integer(String digits) {
        int[] groups = NumberText.myriads(digits);
        if (groups == null) return NumberText.digitByDigit(digits, DIGIT);
        String[] big = {"", "マン", "オク", "チョウ"};
        StringBuilder b = new StringBuilder();
        for (int g = 3; g >= 0; g--) {
            int part = groups[3 - g];
            if (part == 0) continue;
            b.append(under10000(part, g));
            b.append(big[g]);
        }
        if (b.length() == 0) return "ゼロ";
        return b.toString().replace("イチチョウ", "イッチョウ").replace("ハチチョウ", "ハッチョウ").replace("ジュウチョウ", "ジュッチョウ");
    }

    /** 1..9999; {@code g} is the 万-group the part multiplies (0 = ones): 千 alone reads セン, 一千万 イッセンマン. */
    private static String under10000(int n, int g) {
        StringBuilder b = new StringBuilder();
        int th = n / 1000, h = n / 100 % 10, t = n / 10 % 10, o = n % 10;
        if (th > 0) {
            if (th == 1) b.append(g > 0 ? "イッセン" : "セン");
            else if (th == 3) b.append("サンゼン");
            else if (th == 8) b.append("ハッセン");
            else b.append(DIGIT[th]).append("セン");
        }
        if (h > 0) {
            if (h == 1) b.append("ヒャク");
            else if (h == 3) b.append("サンビャク");
            else if (h == 6) b.append("ロッピャク");
            else if (h == 8) b.append("ハッピャク");
            else b.append(DIGIT[h]).append("ヒャク");
        }
        if (t > 0) b.append(t == 1 ? "" : DIGIT[t]).append("ジュウ");
        if (o > 0) b.append(DIGIT[o]);
        return b.toString();
    }
}
