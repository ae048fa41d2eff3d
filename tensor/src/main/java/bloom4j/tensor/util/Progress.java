package bloom4j.tensor.util;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on standard error for long work: {@code label [#####.....] 52% 13/25 units, 00:41 left}. On a terminal it
 * redraws one line at most five times a second; otherwise (logs, CI) it prints a line per 10% so logs stay short.
 */
public final class Progress implements AutoCloseable {
    private final String label;
    private final String unit;
    private final long total;
    private final PrintStream out;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;
    private int lastDecile = -1;
    private boolean closed;

    private Progress(String label, long total, String unit, PrintStream out, boolean terminal) {
        this.label = label;
        this.total = Math.max(total, 0);
        this.unit = unit;
        this.out = out;
        this.terminal = terminal;
    }

    /** A bar on stderr; {@code total} may be 0 when unknown. */
    public static Progress start(String label, long total, String unit) {
        return new Progress(label, total, unit, System.err, System.console() != null);
    }

    /** A bar that prints nothing (for library callers that do not want output). */
    public static Progress silent() {
        return new Progress("", 0, "", new PrintStream(PrintStream.nullOutputStream()), false);
    }

    public void step(long n) { set(done + n); }

    public synchronized void set(long value) {
        done = value;
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastDraw > 200_000_000L || done >= total) {
                lastDraw = now;
                out.print("\r" + line());
                out.flush();
            }
        } else if (total > 0) {
            int decile = (int) Math.min(10, done * 10 / total);
            if (decile != lastDecile) {
                lastDecile = decile;
                out.println(line());
            }
        }
    }

    private String line() {
        double secs = (System.nanoTime() - start) / 1e9;
        if (total <= 0) return String.format(Locale.ROOT, "%s %d %s, %s", label, done, unit, clock(secs));
        double frac = Math.min(1, (double) done / total);
        int w = 30, filled = (int) Math.round(frac * w);
        String bar = "#".repeat(filled) + ".".repeat(w - filled);
        String eta = done > 0 && done < total ? clock(secs * (total - done) / done) + " left" : clock(secs);
        return String.format(Locale.ROOT, "%s [%s] %3d%% %d/%d %s, %s", label, bar, Math.round(frac * 100), done, total, unit, eta);
    }

    private static String clock(double secs) {
        long s = Math.round(secs);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }

    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        if (terminal) {
            out.print("\r" + line() + "\n");
            out.flush();
        } else if (total > 0 && lastDecile < 10) {
            out.println(line());
        }
    }
}
