package bloom4j.tensor.pickle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code collections.OrderedDict}: its items in insertion order, plus the instance attributes a {@code BUILD} set on it. A
 * module's {@code state_dict()} carries a {@code _metadata} attribute (per-module version numbers) this way; keeping attributes apart
 * from the items means the tensor map never contains it.
 */
public final class PyOrderedDict extends LinkedHashMap<Object, Object> {
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    /** Instance attributes set by {@code BUILD} ({@code _metadata} for a state dict); empty if none. */
    public Map<String, Object> attributes() { return attributes; }
}
