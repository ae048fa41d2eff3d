package bloom4j.tensor.pickle;

import bloom4j.tensor.io.CheckpointException;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A pickle reader that never runs code: a stack machine over the opcodes PyTorch's own {@code weights_only} loader accepts
 * (protocol 2), plus the protocol 3-5 opcodes Lightning metadata may contain, building a plain Java object tree.
 *
 * <p>Object model: None → null, bool → {@link Boolean}, int → {@link Long} ({@link BigInteger} beyond 64 bits), float →
 * {@link Double}, str → {@link String}, bytes → {@code byte[]} (also the protocol-2 form {@code _codecs.encode(s, 'latin1')}),
 * tuple → {@link PyTuple}, list → {@link ArrayList}, dict and defaultdict → {@link LinkedHashMap} (insertion order kept),
 * OrderedDict → {@link PyOrderedDict}, set and frozenset → {@link LinkedHashSet}.
 *
 * <p>Security: every {@code GLOBAL}/{@code STACK_GLOBAL} is checked when it is read, even if never called. The built-in
 * containers above and {@code _codecs.encode} are allowed here; anything else must be accepted by the {@link Environment}, which
 * also implements the few functions it allows to be called. A refused global is a {@link CheckpointException} naming it and the
 * file. Malformed input (truncation, stack or memo misuse, unknown opcodes, absurd lengths) is a {@link CheckpointException} too;
 * lengths are checked against the bytes left before anything is allocated, and the number of values a pickle may create is capped.
 */
public final class Unpickler {

    /** How a global accepted by the {@link Environment} may be used. */
    public enum GlobalKind {
        /** A function or class the environment implements in {@link Environment#call} ({@code REDUCE}, {@code NEWOBJ}). */
        CALLABLE,
        /** A class whose instances are recorded as {@link PyObject}s, never constructed. */
        OPAQUE,
        /** A name usable only as a value (a dtype, a storage class, {@code typing.Any}); calling it is an error. */
        VALUE
    }

    /** What the names in a pickle mean: the allow-list beyond the built-in containers, and the persistent-id resolver. */
    public interface Environment {
        /**
         * The kind of global {@code module.name} (module already normalised, {@code __builtin__} → {@code builtins}); null refuses
         * it.
         */
        GlobalKind kind(String module, String name);

        /** Calls a {@link GlobalKind#CALLABLE} global with its positional arguments. */
        Object call(PyGlobal function, PyTuple args) throws CheckpointException;

        /** Resolves a persistent id ({@code BINPERSID}); PyTorch uses it for tensor storages. */
        Object persistentLoad(Object pid) throws CheckpointException;
    }

    /**
     * Most stack pushes plus memo entries one pickle may make: bounds the memory a hostile pickle can claim (each opcode byte could
     * otherwise create an object) far above what real checkpoints need (a few dozen per tensor).
     */
    public static final long MAX_ITEMS = 20_000_000L;

    /** Deepest nesting of tuples used as dict keys or set elements (their hash codes recurse). */
    private static final int MAX_KEY_DEPTH = 100;

    /** Longest line of a text {@code GLOBAL} opcode (a module or attribute name). */
    private static final int MAX_GLOBAL_LINE = 1024;

    /** Highest pickle protocol defined (5, Python 3.8). */
    private static final int HIGHEST_PROTOCOL = 5;

    private static final Set<String> BUILTINS = Set.of(
            "collections.OrderedDict", "collections.defaultdict", "builtins.dict", "builtins.list", "builtins.tuple",
            "builtins.set", "builtins.frozenset", "builtins.bytes", "_codecs.encode");

    private final byte[] data;
    private final Path file;
    private final Environment env;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final HashMap<Long, Object> memo = new HashMap<>();
    private int pos;
    private int opStart;
    private int opcode;
    private long items;

    private Unpickler(byte[] data, Path file, Environment env) {
        this.data = data;
        this.file = file;
        this.env = env;
    }

    /**
     * Reads one pickle from the start of {@code data} up to its {@code STOP} opcode.
     *
     * @param file named in error messages
     */
    public static Object load(byte[] data, Path file, Environment env) throws CheckpointException {
        Unpickler u = new Unpickler(data, file, env);
        try {
            return u.run();
        } catch (CheckpointException e) {
            throw e;
        } catch (RuntimeException e) { // last line of defence: a malformed pickle must never escape as an unchecked exception
            throw u.error("malformed pickle: " + e, e);
        }
    }

    private Object run() throws CheckpointException {
        while (true) {
            if (pos >= data.length) throw error("truncated pickle: ended without a STOP opcode", null);
            opStart = pos;
            opcode = data[pos++] & 0xFF;
            switch (opcode) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > HIGHEST_PROTOCOL) throw error("unsupported pickle protocol " + proto, null);
                }
                case 0x95 -> skip(8); // FRAME: a length hint for buffered readers; the data is all in memory
                case '.' -> { // STOP
                    return pop();
                }
                case 'c' -> { // GLOBAL
                    String module = line();
                    push(global(module, line()));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two str, got " + typeName(module) + " and " + typeName(name), null);
                    }
                    push(global(m, n));
                }
                case 'q' -> memoPut(u8());                      // BINPUT
                case 'r' -> memoPut(u32());                     // LONG_BINPUT
                case 0x94 -> memoPut(memo.size());              // MEMOIZE
                case 'h' -> push(memoGet(u8()));                // BINGET
                case 'j' -> push(memoGet(u32()));               // LONG_BINGET
                case '(' -> marks.add(stack.size());            // MARK
                case '0' -> {                                   // POP (of an empty segment: its mark, as CPython does)
                    if (stack.size() > markBase()) stack.remove(stack.size() - 1);
                    else popMark();
                }
                case '1' -> popMark();                          // POP_MARK
                case '2' -> push(peek());                       // DUP
                case ')' -> push(PyTuple.EMPTY);                // EMPTY_TUPLE
                case 't' -> push(new PyTuple(popMark()));       // TUPLE
                case 0x85 -> push(PyTuple.of(pop()));           // TUPLE1
                case 0x86 -> {                                  // TUPLE2
                    Object b = pop();
                    push(PyTuple.of(pop(), b));
                }
                case 0x87 -> {                                  // TUPLE3
                    Object c = pop();
                    Object b = pop();
                    push(PyTuple.of(pop(), b, c));
                }
                case ']' -> push(new ArrayList<>());            // EMPTY_LIST
                case 'l' -> push(popMark());                    // LIST
                case 'a' -> {                                   // APPEND
                    Object v = pop();
                    append(peek(), Collections.singletonList(v));
                }
                case 'e' -> {                                   // APPENDS
                    List<Object> vs = popMark();
                    append(peek(), vs);
                }
                case '}' -> push(new LinkedHashMap<>());        // EMPTY_DICT
                case 'd' -> {                                   // DICT
                    List<Object> kv = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    setItems(m, kv);
                    push(m);
                }
                case 's' -> {                                   // SETITEM
                    Object v = pop();
                    Object k = pop();
                    setItems(peek(), Arrays.asList(k, v));
                }
                case 'u' -> {                                   // SETITEMS
                    List<Object> kv = popMark();
                    setItems(peek(), kv);
                }
                case 0x8f -> push(new LinkedHashSet<>());       // EMPTY_SET
                case 0x90 -> {                                  // ADDITEMS
                    List<Object> vs = popMark();
                    if (!(peek() instanceof Set<?>)) throw error("ADDITEMS on a " + typeName(peek()) + ", not a set", null);
                    @SuppressWarnings("unchecked") Set<Object> s = (Set<Object>) peek();
                    addAll(s, vs);
                }
                case 0x91 -> {                                  // FROZENSET
                    Set<Object> s = new LinkedHashSet<>();
                    addAll(s, popMark());
                    push(s);
                }
                case 'N' -> push(null);                         // NONE
                case 0x88 -> push(Boolean.TRUE);                // NEWTRUE
                case 0x89 -> push(Boolean.FALSE);               // NEWFALSE
                case 'J' -> push((long) (int) u32());           // BININT (signed)
                case 'K' -> push((long) u8());                  // BININT1
                case 'M' -> push((long) u16());                 // BININT2
                case 0x8a -> push(longLE(u8()));                // LONG1
                case 0x8b -> {                                  // LONG4
                    long n = (int) u32();
                    if (n < 0) throw error("LONG4 with negative length " + n, null);
                    push(longLE(n));
                }
                case 'G' -> push(Double.longBitsToDouble(u64BigEndian())); // BINFLOAT (big-endian)
                case 'X' -> push(utf8(u32()));                  // BINUNICODE
                case 0x8c -> push(utf8(u8()));                  // SHORT_BINUNICODE
                case 0x8d -> push(utf8(u64()));                 // BINUNICODE8
                case 'U' -> push(utf8(u8()));                   // SHORT_BINSTRING (a Python 2 str; torch.load decodes it as UTF-8)
                case 'B' -> push(bytes(u32()));                 // BINBYTES
                case 'C' -> push(bytes(u8()));                  // SHORT_BINBYTES
                case 0x8e -> push(bytes(u64()));                // BINBYTES8
                case 'Q' -> push(env.persistentLoad(pop()));    // BINPERSID
                case 'R' -> {                                   // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(call(callable, tupleArg(args, "REDUCE"), Map.of()));
                }
                case 0x81 -> {                                  // NEWOBJ
                    Object args = pop();
                    Object cls = pop();
                    push(call(cls, tupleArg(args, "NEWOBJ"), Map.of()));
                }
                case 0x92 -> {                                  // NEWOBJ_EX
                    Object kwargs = pop();
                    Object args = pop();
                    Object cls = pop();
                    if (!(kwargs instanceof Map<?, ?> kw)) throw error("NEWOBJ_EX keyword arguments are a " + typeName(kwargs), null);
                    @SuppressWarnings("unchecked") Map<Object, Object> kwm = (Map<Object, Object>) kw;
                    push(call(cls, tupleArg(args, "NEWOBJ_EX"), kwm));
                }
                case 'b' -> {                                   // BUILD
                    Object state = pop();
                    build(peek(), state);
                }
                default -> throw error(String.format(Locale.ROOT, "unsupported pickle opcode 0x%02x", opcode), null);
            }
        }
    }

    // ---- globals and calls ------------------------------------------------------------------------------------------------

    private PyGlobal global(String module, String name) throws CheckpointException {
        String m = module.equals("__builtin__") ? "builtins" : module;
        PyGlobal g = new PyGlobal(m, name);
        if (!BUILTINS.contains(g.qualifiedName()) && env.kind(m, name) == null) {
            throw new CheckpointException(file, "refused pickle global " + g.qualifiedName() + " (byte " + opStart + " of the pickle): "
                    + "only tensor, container and known metadata classes may appear in a checkpoint; loading never runs code");
        }
        return g;
    }

    /** REDUCE / NEWOBJ / NEWOBJ_EX: builds a container, records an opaque object, or delegates to the environment. */
    private Object call(Object callable, PyTuple args, Map<Object, Object> kwargs) throws CheckpointException {
        if (!(callable instanceof PyGlobal g)) throw error("cannot call a " + typeName(callable) + " (only globals are callable)", null);
        if (BUILTINS.contains(g.qualifiedName())) {
            if (!kwargs.isEmpty()) throw error("keyword arguments to " + g + " are not supported", null);
            return builtin(g, args);
        }
        GlobalKind kind = env.kind(g.module(), g.name());
        if (kind == GlobalKind.OPAQUE) return new PyObject(g, args, kwargs.isEmpty() ? Map.of() : new LinkedHashMap<>(kwargs));
        if (kind != GlobalKind.CALLABLE) throw error(g + " is not callable", null);
        if (!kwargs.isEmpty()) throw error("keyword arguments to " + g + " are not supported", null);
        return env.call(g, args);
    }

    private Object builtin(PyGlobal g, PyTuple args) throws CheckpointException {
        switch (g.qualifiedName()) {
            case "collections.OrderedDict", "builtins.dict", "collections.defaultdict" -> {
                Map<Object, Object> m = g.name().equals("OrderedDict") ? new PyOrderedDict() : new LinkedHashMap<>();
                // defaultdict(factory[, items]): the factory is only a default for missing keys; nothing to keep for reading.
                int itemsArg = g.name().equals("defaultdict") ? 1 : 0;
                if (args.size() > itemsArg + 1) throw error(g + " called with " + args.size() + " arguments", null);
                if (args.size() == itemsArg + 1) {
                    Object src = args.get(itemsArg);
                    if (src instanceof Map<?, ?> from) {
                        for (Map.Entry<?, ?> e : from.entrySet()) m.put(e.getKey(), e.getValue());
                    } else {
                        for (Object pair : iterable(src, g)) {
                            List<?> kv = pair instanceof PyTuple t ? t.items() : pair instanceof List<?> l ? l : null;
                            if (kv == null || kv.size() != 2) throw error(g + " items must be (key, value) pairs", null);
                            setItems(m, new ArrayList<>(kv));
                        }
                    }
                }
                return m;
            }
            case "builtins.list", "builtins.tuple", "builtins.set", "builtins.frozenset" -> {
                if (args.size() > 1) throw error(g + " called with " + args.size() + " arguments", null);
                List<Object> content = args.size() == 0 ? new ArrayList<>() : new ArrayList<>(iterable(args.get(0), g));
                if (g.name().equals("list")) return content;
                if (g.name().equals("tuple")) return new PyTuple(content);
                Set<Object> s = new LinkedHashSet<>();
                addAll(s, content);
                return s;
            }
            case "builtins.bytes" -> {
                if (args.size() == 0) return new byte[0]; // protocol 2 pickles b'' as bytes()
                if (args.size() == 1 && args.get(0) instanceof byte[] b) return b;
                throw error("builtins.bytes called with " + args.size() + " arguments", null);
            }
            case "_codecs.encode" -> {
                // Protocol 2 pickles bytes as _codecs.encode(<bytes decoded as latin-1>, 'latin1').
                if (args.size() != 2 || !(args.get(0) instanceof String s) || !(args.get(1) instanceof String enc)) {
                    throw error("_codecs.encode expects (str, encoding)", null);
                }
                String e = enc.toLowerCase(Locale.ROOT).replace('_', '-');
                if (!e.equals("latin1") && !e.equals("latin-1") && !e.equals("iso-8859-1")) {
                    throw error("_codecs.encode with encoding '" + enc + "' (only latin1, as pickle writes bytes)", null);
                }
                byte[] out = new byte[s.length()];
                for (int i = 0; i < out.length; i++) {
                    char c = s.charAt(i);
                    if (c > 0xFF) throw error("_codecs.encode: character U+" + Integer.toHexString(c) + " is not latin1", null);
                    out[i] = (byte) c;
                }
                return out;
            }
            default -> throw new IllegalStateException("builtin " + g + " listed but not implemented");
        }
    }

    private Collection<?> iterable(Object o, PyGlobal callee) throws CheckpointException {
        if (o instanceof PyTuple t) return t.items();
        if (o instanceof Collection<?> c) return c;
        if (o instanceof Map<?, ?> m) return m.keySet();
        throw error(callee + " argument is a " + typeName(o) + ", not an iterable", null);
    }

    private void build(Object target, Object state) throws CheckpointException {
        if (target instanceof PyObject o) {
            o.build(state);
        } else if (target instanceof PyOrderedDict d) {
            // An OrderedDict's __dict__ (a state dict's _metadata), possibly as (dict_state, slot_state).
            Object attrs = state instanceof PyTuple t && t.size() == 2 ? t.get(0) : state;
            if (attrs == null) return;
            if (!(attrs instanceof Map<?, ?> m)) throw error("BUILD on an OrderedDict with a " + typeName(attrs) + " state", null);
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String k)) throw error("OrderedDict attribute name is a " + typeName(e.getKey()), null);
                d.attributes().put(k, e.getValue());
            }
        } else {
            throw error("BUILD on a " + typeName(target) + " is not supported", null);
        }
    }

    // ---- containers -------------------------------------------------------------------------------------------------------

    private void append(Object target, List<Object> values) throws CheckpointException {
        List<Object> dst;
        if (target instanceof PyObject o) {
            dst = o.listItems();
        } else if (target instanceof ArrayList<?>) {
            @SuppressWarnings("unchecked") List<Object> l = (List<Object>) target;
            dst = l;
        } else {
            throw error("APPEND to a " + typeName(target) + ", not a list", null);
        }
        dst.addAll(values);
    }

    private void setItems(Object target, List<Object> kv) throws CheckpointException {
        if (kv.size() % 2 != 0) throw error("SETITEMS with an odd number of stack items (" + kv.size() + ")", null);
        Map<Object, Object> dst;
        if (target instanceof PyObject o) {
            dst = o.dictItems();
        } else if (target instanceof Map<?, ?>) {
            @SuppressWarnings("unchecked") Map<Object, Object> m = (Map<Object, Object>) target;
            dst = m;
        } else {
            throw error("SETITEM on a " + typeName(target) + ", not a dict", null);
        }
        for (int i = 0; i < kv.size(); i += 2) {
            requireHashable(kv.get(i), 0);
            dst.put(kv.get(i), kv.get(i + 1));
        }
    }

    private void addAll(Set<Object> s, List<Object> values) throws CheckpointException {
        for (Object v : values) {
            requireHashable(v, 0);
            s.add(v);
        }
    }

    /** Python refuses mutable containers as dict keys and set elements; so do we (their Java hash codes would be unstable). */
    private void requireHashable(Object key, int depth) throws CheckpointException {
        if (key instanceof List<?> || key instanceof Map<?, ?> || key instanceof Set<?>) {
            throw error("unhashable " + typeName(key) + " used as a dict key or set element", null);
        }
        if (key instanceof PyTuple t) {
            if (depth >= MAX_KEY_DEPTH) throw error("dict key nested deeper than " + MAX_KEY_DEPTH + " tuples", null);
            for (Object o : t.items()) requireHashable(o, depth + 1);
        }
    }

    private PyTuple tupleArg(Object args, String op) throws CheckpointException {
        if (!(args instanceof PyTuple t)) throw error(op + " arguments are a " + typeName(args) + ", not a tuple", null);
        return t;
    }

    // ---- stack, marks, memo -----------------------------------------------------------------------------------------------

    private void push(Object o) throws CheckpointException {
        count();
        stack.add(o);
    }

    private void count() throws CheckpointException {
        if (++items > MAX_ITEMS) throw error("pickle creates more than " + MAX_ITEMS + " values; refusing to continue", null);
    }

    private int markBase() { return marks.isEmpty() ? 0 : marks.get(marks.size() - 1); }

    private Object pop() throws CheckpointException {
        if (stack.size() <= markBase()) throw error("pickle stack underflow", null);
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws CheckpointException {
        if (stack.size() <= markBase()) throw error("pickle stack underflow", null);
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws CheckpointException {
        if (marks.isEmpty()) throw error("no MARK on the pickle stack", null);
        int m = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(m, stack.size());
        List<Object> out = new ArrayList<>(top);
        top.clear();
        return out;
    }

    private void memoPut(long index) throws CheckpointException {
        Object top = peek();
        count();
        memo.put(index, top);
    }

    private Object memoGet(long index) throws CheckpointException {
        if (!memo.containsKey(index)) throw error("memo index " + index + " was never stored", null);
        return memo.get(index);
    }

    // ---- reading ----------------------------------------------------------------------------------------------------------

    private void need(long n) throws CheckpointException {
        if (n < 0 || n > data.length - pos) {
            throw error("truncated pickle: needs " + n + " more bytes, " + (data.length - pos) + " left", null);
        }
    }

    private void skip(int n) throws CheckpointException {
        need(n);
        pos += n;
    }

    private int u8() throws CheckpointException {
        need(1);
        return data[pos++] & 0xFF;
    }

    private int u16() throws CheckpointException {
        need(2);
        int v = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private long u32() throws CheckpointException {
        need(4);
        long v = 0;
        for (int i = 3; i >= 0; i--) v = v << 8 | (data[pos + i] & 0xFF);
        pos += 4;
        return v;
    }

    /** An unsigned 64-bit length; anything beyond the bytes left is reported as truncation by the caller's {@link #need}. */
    private long u64() throws CheckpointException {
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | (data[pos + i] & 0xFF);
        pos += 8;
        return v < 0 ? Long.MAX_VALUE : v;
    }

    private long u64BigEndian() throws CheckpointException {
        need(8);
        long v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | (data[pos + i] & 0xFF);
        pos += 8;
        return v;
    }

    private byte[] bytes(long n) throws CheckpointException {
        need(n);
        byte[] b = Arrays.copyOfRange(data, pos, pos + (int) n);
        pos += (int) n;
        return b;
    }

    /** UTF-8 text; malformed sequences (Python's 'surrogatepass' lone surrogates) become U+FFFD rather than failing. */
    private String utf8(long n) throws CheckpointException {
        need(n);
        String s = new String(data, pos, (int) n, StandardCharsets.UTF_8);
        pos += (int) n;
        return s;
    }

    private String line() throws CheckpointException {
        int end = pos;
        while (end < data.length && data[end] != '\n') {
            if (end - pos >= MAX_GLOBAL_LINE) throw error("GLOBAL name longer than " + MAX_GLOBAL_LINE + " bytes", null);
            end++;
        }
        if (end >= data.length) throw error("truncated pickle: GLOBAL name without end of line", null);
        String s = new String(data, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    /** A little-endian two's-complement integer of n bytes, as a Long when it fits. */
    private Object longLE(long n) throws CheckpointException {
        need(n);
        int len = (int) n;
        byte[] be = new byte[len];
        for (int i = 0; i < len; i++) be[i] = data[pos + len - 1 - i];
        pos += len;
        if (len == 0) return 0L;
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    // ---- errors -----------------------------------------------------------------------------------------------------------

    private CheckpointException error(String what, Throwable cause) {
        String where = String.format(Locale.ROOT, " (pickle byte %d, opcode 0x%02x)", opStart, opcode);
        return cause == null ? new CheckpointException(file, what + where) : new CheckpointException(file, what + where, cause);
    }

    /** The Python type name of a value of the object tree, for error messages (values themselves are never printed). */
    public static String typeName(Object o) {
        if (o == null) return "None";
        if (o instanceof Boolean) return "bool";
        if (o instanceof Long || o instanceof BigInteger) return "int";
        if (o instanceof Double) return "float";
        if (o instanceof String) return "str";
        if (o instanceof byte[]) return "bytes";
        if (o instanceof PyTuple) return "tuple";
        if (o instanceof List<?>) return "list";
        if (o instanceof PyOrderedDict) return "OrderedDict";
        if (o instanceof Map<?, ?>) return "dict";
        if (o instanceof Set<?>) return "set";
        if (o instanceof PyGlobal g) return "global " + g.qualifiedName();
        if (o instanceof PyObject p) return p.type().qualifiedName();
        return o.getClass().getSimpleName();
    }
}
