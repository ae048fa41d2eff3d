package bloom4j.infer.tts;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * ZipVoice's silence handling ({@code remove_silence}, k2-fsa/ZipVoice@2f7326f {@code zipvoice/utils/infer.py} L281-345), which runs
 * pydub on 16-bit samples; the pydub rules ({@code pydub/silence.py}: {@code detect_silence}, {@code split_on_silence},
 * {@code detect_leading_silence}) are reproduced here on mono audio:
 * <ul>
 *   <li>samples become int16 as upstream converts them ({@code x·32768}, clipped, truncated toward zero); times are whole ms;</li>
 *   <li>a window is silent when its integer RMS ({@code audioop.rms}) is at most {@code 10^(−50/20)·32768}; silences are runs of
 *       silent 1000 ms windows stepped by 10 ms; each non-silent part keeps up to 1000 ms of silence on each side (overlaps split
 *       at their middle) and the parts are joined;</li>
 *   <li>edges: leading and trailing silence (10 ms chunks below −50 dBFS) beyond 100 ms removed;</li>
 *   <li>{@code trailMs} of zeros appended (200 ms for a prompt, "to avoid leaking prompt to generated speech").</li>
 * </ul>
 */
public final class Silence {
    private Silence() {}

    static final double THRESHOLD_DB = -50;
    static final int MIN_SILENCE_MS = 1000, KEEP_MS = 1000, SEEK_MS = 10, EDGE_KEEP_MS = 100, CHUNK_MS = 10;

    /** {@code remove_silence(audio, rate, only_edge, trail_sil)}; mono samples in [−1, 1]. */
    public static float[] remove(float[] audio, int rate, boolean onlyEdge, int trailMs) {
        short[] s = toInt16(audio);
        if (!onlyEdge) s = splitAndJoin(s, rate);
        s = trimEdges(s, rate);
        int trail = (int) ((long) trailMs * rate / 1000);
        float[] out = new float[s.length + trail];
        for (int i = 0; i < s.length; i++) out[i] = s[i] / 32768f;
        return out;
    }

    static short[] toInt16(float[] x) {
        short[] s = new short[x.length];
        for (int i = 0; i < x.length; i++) s[i] = (short) Math.max(-32768f, Math.min(32767f, x[i] * 32768f));
        return s;
    }

    private static int samples(long ms, int rate) { return (int) (ms * rate / 1000); }

    private static long lengthMs(short[] s, int rate) { return Math.round(1000.0 * s.length / rate); }

    /** {@code audioop.rms} of {@code s[from, to)} (integer square root of the mean square, as pydub compares it). */
    static long rms(short[] s, int from, int to) {
        to = Math.min(to, s.length);
        if (to <= from) return 0;
        long sum = 0;
        for (int i = from; i < to; i++) sum += (long) s[i] * s[i];
        return (long) Math.sqrt((double) sum / (to - from));
    }

    private static double threshold() { return Math.pow(10, THRESHOLD_DB / 20) * 32768; }

    /** {@code detect_silence}: [start, end) ms ranges. */
    static List<long[]> silences(short[] s, int rate) {
        long len = lengthMs(s, rate);
        List<long[]> out = new ArrayList<>();
        if (len < MIN_SILENCE_MS) return out;
        long last = len - MIN_SILENCE_MS;
        List<Long> starts = new ArrayList<>();
        for (long i = 0; i <= last; i += SEEK_MS) starts.add(i);
        if (last % SEEK_MS != 0) starts.add(last);
        double th = threshold();
        List<Long> silent = new ArrayList<>();
        for (long i : starts) if (rms(s, samples(i, rate), samples(i + MIN_SILENCE_MS, rate)) <= th) silent.add(i);
        if (silent.isEmpty()) return out;
        long rangeStart = silent.get(0), prev = rangeStart;
        for (int k = 1; k < silent.size(); k++) {
            long cur = silent.get(k);
            boolean continuous = cur == prev + SEEK_MS, gap = cur > prev + MIN_SILENCE_MS;
            if (!continuous && gap) {
                out.add(new long[] {rangeStart, prev + MIN_SILENCE_MS});
                rangeStart = cur;
            }
            prev = cur;
        }
        out.add(new long[] {rangeStart, prev + MIN_SILENCE_MS});
        return out;
    }

    /** {@code split_on_silence(min_silence_len=1000, silence_thresh=-50, keep_silence=1000, seek_step=10)}, the pieces joined. */
    static short[] splitAndJoin(short[] s, int rate) {
        long len = lengthMs(s, rate);
        List<long[]> sil = silences(s, rate);
        List<long[]> nonSilent = new ArrayList<>();
        long prevEnd = 0;
        for (long[] r : sil) {
            if (r[0] > prevEnd) nonSilent.add(new long[] {prevEnd, r[0]});
            prevEnd = r[1];
        }
        if (prevEnd < len) nonSilent.add(new long[] {prevEnd, len});
        if (sil.isEmpty()) nonSilent = List.of(new long[] {0, len});
        List<long[]> ranges = new ArrayList<>();
        for (long[] r : nonSilent) ranges.add(new long[] {r[0] - KEEP_MS, r[1] + KEEP_MS});
        for (int i = 0; i + 1 < ranges.size(); i++) {
            long[] a = ranges.get(i), b = ranges.get(i + 1);
            if (a[1] > b[0]) a[1] = b[0] = Math.floorDiv(a[1] + b[0], 2);
        }
        short[] out = new short[0];
        for (long[] r : ranges) {
            int from = samples(Math.max(r[0], 0), rate), to = Math.min(samples(Math.min(r[1], len), rate), s.length);
            if (to <= from) continue;
            short[] n = Arrays.copyOf(out, out.length + to - from);
            System.arraycopy(s, from, n, out.length, to - from);
            out = n;
        }
        return out;
    }

    /** {@code remove_silence_edges(audio, 100, -50)}. */
    static short[] trimEdges(short[] s, int rate) {
        int start = samples(Math.max(0, leading(s, rate, false) - EDGE_KEEP_MS), rate);
        int end = s.length - samples(Math.max(0, leading(s, rate, true) - EDGE_KEEP_MS), rate);
        return end <= start ? new short[0] : Arrays.copyOfRange(s, start, end);
    }

    /** {@code detect_leading_silence(sound, -50, chunk_size=10)} in ms, from the end when {@code reversed}. */
    static long leading(short[] s, int rate, boolean reversed) {
        long len = lengthMs(s, rate), trim = 0;
        double th = threshold();
        while (trim < len) {
            int a = samples(trim, rate), b = samples(trim + CHUNK_MS, rate);
            long r = reversed ? rms(s, Math.max(0, s.length - b), s.length - a) : rms(s, a, b);
            if (!(r < th)) break;   // dBFS < −50 ⟺ rms < threshold (rms 0 is −inf dBFS)
            trim += CHUNK_MS;
        }
        return trim;
    }
}
