package bloom4j.tensor.pickle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A Python tuple: an immutable sequence that may hold nulls (Python {@code None}). Kept distinct from {@link java.util.List}, which
 * stands for a Python list, so that the object tree says which of the two the file held; equality is element-wise, so tuples of
 * hashable values work as dict keys.
 */
public record PyTuple(List<Object> items) {

    public static final PyTuple EMPTY = new PyTuple(List.of());

    public PyTuple {
        items = Collections.unmodifiableList(new ArrayList<>(items));
    }

    public static PyTuple of(Object... items) { return new PyTuple(Arrays.asList(items)); }

    public int size() { return items.size(); }

    public Object get(int i) { return items.get(i); }

    /** Python-like rendering, {@code (1, 'a')}; a one-element tuple keeps its trailing comma. */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) sb.append(", ");
            Object o = items.get(i);
            sb.append(o instanceof String s ? "'" + s + "'" : String.valueOf(o));
        }
        return sb.append(items.size() == 1 ? ",)" : ")").toString();
    }
}
