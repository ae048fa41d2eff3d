package bloom4j.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where a (lead vocal) track is singing: 20 ms frames, active when the frame's RMS is above the track's 99th-percentile frame level
 * minus 40 dB, then gaps shorter than 0.3 s closed and islands shorter than 0.2 s dropped.
 */
public final class VocalActivity {
    private VocalActivity() {}

    /** An active interval in seconds. */
    public record Interval(double start, double end) {
        public double length() { return end - start; }
    }

    static final double FRAME_S = 0.020, RANGE_DB = 40, CLOSE_GAP_S = 0.3, MIN_ISLAND_S = 0.2;

    public static List<Interval> detect(float[] mono, int sampleRate) {
        int frame = Math.max(1, (int) Math.round(FRAME_S * sampleRate));
        int n = mono.length / frame;
        if (n == 0) return List.of();
        double[] db = new double[n];
        for (int f = 0; f < n; f++) {
            double s = 0;
            for (int i = f * frame; i < (f + 1) * frame; i++) s += (double) mono[i] * mono[i];
            db[f] = 10 * Math.log10(s / frame + 1e-20);
        }
        double[] sorted = db.clone();
        Arrays.sort(sorted);
        double threshold = sorted[(int) Math.min(n - 1, Math.floor(0.99 * (n - 1)))] - RANGE_DB;
        List<double[]> runs = new ArrayList<>();
        int start = -1;
        for (int f = 0; f <= n; f++) {
            boolean on = f < n && db[f] > threshold && db[f] > -100;
            if (on && start < 0) start = f;
            if (!on && start >= 0) {
                runs.add(new double[] {start * FRAME_S, f * FRAME_S});
                start = -1;
            }
        }
        List<double[]> closed = new ArrayList<>();
        for (double[] r : runs) {
            if (!closed.isEmpty() && r[0] - closed.get(closed.size() - 1)[1] < CLOSE_GAP_S) closed.get(closed.size() - 1)[1] = r[1];
            else closed.add(r);
        }
        List<Interval> out = new ArrayList<>();
        for (double[] r : closed) if (r[1] - r[0] >= MIN_ISLAND_S) out.add(new Interval(r[0], r[1]));
        return out;
    }
}
