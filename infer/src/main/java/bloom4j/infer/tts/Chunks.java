package bloom4j.infer.tts;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Long text split for ZipVoice ({@code chunk_tokens_punctuation}, {@code batchify_tokens}, {@code add_punctuation};
 * k2-fsa/ZipVoice@2f7326f {@code zipvoice/utils/infer.py} L12-170, L232-237).
 */
public final class Chunks {
    private Chunks() {}

    static final Set<String> PUNCTUATION = Set.of(";", ":", ",", ".", "!", "?", "；", "：", "，", "。", "！", "？");

    /** The text stripped, with {@code .} appended unless it already ends in punctuation. */
    public static String addPunctuation(String text) {
        String t = text.strip();
        if (t.isEmpty()) throw new IllegalArgumentException("the text is empty");
        return PUNCTUATION.contains(t.substring(t.length() - 1)) ? t : t + ".";
    }

    /**
     * Sentences end after punctuation (a punctuation or space token that would start a sentence joins the previous one), then
     * sentences are merged greedily while a chunk stays within {@code maxTokens}.
     */
    public static List<List<String>> byPunctuation(List<String> tokens, int maxTokens) {
        List<List<String>> sentences = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        for (String t : tokens) {
            if (cur.isEmpty() && !sentences.isEmpty() && (PUNCTUATION.contains(t) || t.equals(" "))) {
                sentences.get(sentences.size() - 1).add(t);
            } else {
                cur.add(t);
                if (PUNCTUATION.contains(t)) {
                    sentences.add(cur);
                    cur = new ArrayList<>();
                }
            }
        }
        if (!cur.isEmpty()) sentences.add(cur);
        List<List<String>> chunks = new ArrayList<>();
        List<String> chunk = new ArrayList<>();
        for (List<String> s : sentences) {
            if (chunk.size() + s.size() <= maxTokens) {
                chunk.addAll(s);
            } else {
                if (!chunk.isEmpty()) chunks.add(chunk);
                chunk = new ArrayList<>(s);
            }
        }
        if (!chunk.isEmpty()) chunks.add(chunk);
        return chunks;
    }

    /** A batch: the chunks' indices in the original order. */
    public record Batch(List<Integer> indices) { }

    /**
     * Chunks sorted by length and packed while {@code Σ tokens·tokenSeconds + n·promptSeconds ≤ maxSeconds} (each batch item
     * carries the prompt).
     */
    public static List<Batch> batches(List<int[]> chunks, double maxSeconds, double promptSeconds, double tokenSeconds) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) order.add(i);
        order.sort(Comparator.comparingInt(i -> chunks.get(i).length));   // stable, as Python's sorted
        List<Batch> out = new ArrayList<>();
        List<Integer> batch = new ArrayList<>();
        long size = 0;
        for (int i : order) {
            int n = chunks.get(i).length;
            if (size * tokenSeconds + batch.size() * promptSeconds + n * tokenSeconds <= maxSeconds) {
                batch.add(i);
                size += n;
            } else {
                if (!batch.isEmpty()) out.add(new Batch(List.copyOf(batch)));
                batch = new ArrayList<>(List.of(i));
                size = n;
            }
        }
        if (!batch.isEmpty()) out.add(new Batch(List.copyOf(batch)));
        return out;
    }

    /** {@code cross_fade_concat}: consecutive pieces overlapped by up to {@code fadeSamples} with a linear fade. */
    public static float[] crossFade(List<float[]> pieces, int fadeSamples) {
        if (pieces.isEmpty()) return new float[0];
        float[] acc = pieces.get(0);
        for (int p = 1; p < pieces.size(); p++) {
            float[] next = pieces.get(p);
            int k = Math.min(fadeSamples, Math.min(acc.length, next.length));
            float[] out = new float[acc.length + next.length - Math.max(k, 0)];
            if (k <= 0) {
                System.arraycopy(acc, 0, out, 0, acc.length);
                System.arraycopy(next, 0, out, acc.length, next.length);
            } else {
                float[] fade = bloom4j.tensor.Floats.linspace(1f, 0f, k);
                System.arraycopy(acc, 0, out, 0, acc.length - k);
                for (int i = 0; i < k; i++) out[acc.length - k + i] = acc[acc.length - k + i] * fade[i] + next[i] * (1 - fade[i]);
                System.arraycopy(next, k, out, acc.length, next.length - k);
            }
            acc = out;
        }
        return acc;
    }
}
