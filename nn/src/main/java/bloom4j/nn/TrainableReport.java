package bloom4j.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.VariableType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trainable versus total parameter counts of one graph, with the trainable tensors listed: what a fine-tuning run prints at its start.
 * {@link #toString()} is PEFT's {@code print_trainable_parameters} line ({@code trainable params: 1,024 || all params: 9,216 ||
 * trainable%: 11.1111}). Totals count every parameter created through {@link Params} once, whether frozen or trainable (a fused
 * q|k|v constant counts its three projections).
 */
public record TrainableReport(List<Entry> trainable, long trainableCount, long totalCount) {

    /** One trainable tensor. */
    public record Entry(String name, long[] shape, long count) {
        @Override public String toString() { return name + " " + Arrays.toString(shape) + " " + String.format(Locale.ROOT, "%,d", count); }
    }

    public TrainableReport {
        trainable = List.copyOf(trainable);
    }

    public static TrainableReport of(Params params) {
        List<Entry> entries = new ArrayList<>();
        long total = 0, train = 0;
        for (SDVariable v : params.variables().values()) {
            long n = v.getArr().length();
            total += n;
            if (v.getVariableType() == VariableType.VARIABLE) {
                train += n;
                entries.add(new Entry(v.name(), v.getArr().shape(), n));
            }
        }
        return new TrainableReport(entries, train, total);
    }

    /** Trainable share in percent. */
    public double percent() { return totalCount == 0 ? 0 : 100.0 * trainableCount / totalCount; }

    /** PEFT's one-line summary. */
    @Override public String toString() {
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f", trainableCount, totalCount,
                percent());
    }

    /** The summary line, then one line per trainable tensor (name, shape, count). */
    public String table() {
        StringBuilder sb = new StringBuilder(toString()).append('\n');
        int width = trainable.stream().mapToInt(e -> e.name().length()).max().orElse(0);
        for (Entry e : trainable) {
            sb.append(String.format(Locale.ROOT, "  %-" + width + "s  %-14s %,12d%n", e.name(), Arrays.toString(e.shape()), e.count()));
        }
        return sb.toString();
    }
}
