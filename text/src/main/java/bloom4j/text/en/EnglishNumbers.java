package bloom4j.text.en;

import bloom4j.text.NumberText;

/**
 * ASCII numbers as English words before lookup (upstream normalises them with g2p_en's {@code normalize_numbers}, which uses
 * inflect): integers up to 10^15 − 1 with thousand/million/billion/trillion, "and" after hundreds as inflect says it, decimals
 * read "point" and digit by digit.
 */
public final class EnglishNumbers {
    private EnglishNumbers() {}

    private static final String[] ONES = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    private static final String[] TENS = {"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
    private static final String[] BIG = {"", " thousand", " million", " billion", " trillion"};
    private static final String[] DIGITS = {" zero", " one", " two", " three", " four", " five", " six", " seven", " eight", " nine"};

    public static String replaceAll(String text) { return NumberText.replaceAll(text, n -> " " + read(n) + " "); }

    public static String read(String number) { return NumberText.read(number, EnglishNumbers::integer, " point", DIGITS); }

    static String integer(String digits) {
        String d = digits.replaceFirst("^0+(?=.)", "");
        if (d.length() > 15) return NumberText.digitByDigit(digits, DIGITS).strip();
        long v = Long.parseLong(d);
        if (v == 0) return "zero";
        StringBuilder b = new StringBuilder();
        for (int g = 4; g >= 0; g--) {
            int part = (int) (v / (long) Math.pow(1000, g) % 1000);
            if (part == 0) continue;
            if (b.length() > 0) b.append(' ');
            b.append(under1000(part)).append(BIG[g]);
        }
        return b.toString();
    }

    private static String under1000(int n) {
        StringBuilder b = new StringBuilder();
        if (n >= 100) {
            b.append(ONES[n / 100]).append(" hundred");
            n %= 100;
            if (n > 0) b.append(" and ");
        }
        if (n >= 20) {
            b.append(TENS[n / 10]);
            if (n % 10 > 0) b.append(' ').append(ONES[n % 10]);
        } else if (n > 0) {
            b.append(ONES[n]);
        }
        return b.toString();
    }
}
