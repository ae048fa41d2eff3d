package bloom4j.tensor.pickle;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An instance of an allow-listed metadata class (omegaconf containers and nodes, paths, {@code argparse.Namespace}) recorded
 * instead of constructed: the class that {@code REDUCE}/{@code NEWOBJ} would have called, the arguments it would have received and
 * the state {@code BUILD} would have set. Items a dict or list subclass receives through {@code SETITEMS}/{@code APPENDS} are kept
 * apart in {@link #dictItems()} and {@link #listItems()}.
 *
 * <p>Mutable only while the pickle is being read; equality is identity, as for Python objects without {@code __eq__}.
 */
public final class PyObject {
    private final PyGlobal type;
    private final PyTuple args;
    private final Map<Object, Object> kwargs;
    private Object state;
    private final Map<Object, Object> dictItems = new LinkedHashMap<>();
    private final List<Object> listItems = new ArrayList<>();

    public PyObject(PyGlobal type, PyTuple args, Map<Object, Object> kwargs) {
        this.type = type;
        this.args = args;
        this.kwargs = kwargs;
    }

    /** The class the object was pickled as. */
    public PyGlobal type() { return type; }

    /** Positional constructor arguments ({@code REDUCE} or {@code NEWOBJ}). */
    public PyTuple args() { return args; }

    /** Keyword constructor arguments ({@code NEWOBJ_EX}); empty otherwise. */
    public Map<Object, Object> kwargs() { return kwargs; }

    /** The {@code BUILD} state, usually a dict of attributes (a tuple {@code (dict, slots)} for slotted classes); null if none. */
    public Object state() { return state; }

    /** The state when it is an attribute dict, else an empty map. */
    @SuppressWarnings("unchecked")
    public Map<Object, Object> attributes() {
        return state instanceof Map<?, ?> m ? (Map<Object, Object>) m : Map.of();
    }

    public Map<Object, Object> dictItems() { return dictItems; }

    public List<Object> listItems() { return listItems; }

    /**
     * Python's default {@code BUILD}: a dict state updates the attributes (copied: the pickle's dict may be shared); any other
     * state is kept as it is.
     */
    void build(Object newState) {
        if (newState instanceof Map<?, ?> add && (state == null || state instanceof LinkedHashMap)) {
            @SuppressWarnings("unchecked")
            Map<Object, Object> own = state == null ? new LinkedHashMap<>() : (Map<Object, Object>) state;
            own.putAll(add);
            state = own;
        } else {
            state = newState;
        }
    }

    @Override public String toString() { return type.qualifiedName() + "(...)"; }
}
