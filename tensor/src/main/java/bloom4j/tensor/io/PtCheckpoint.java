package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.pickle.PyTuple;
import bloom4j.tensor.pickle.Unpickler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A {@code torch.save} checkpoint ({@code .pt}, {@code .pth}, {@code .bin}, Lightning {@code .ckpt}): the zip archive written by
 * torch ≥ 1.6, its pickled object tree read by a {@link Unpickler} that runs no code, and its storages memory-mapped on demand.
 *
 * <p>{@link #root()} is the whole object as {@code torch.load} would return it, with {@link PtTensor} leaves;
 * {@link #stateDict()} finds the weights in it, {@link #tensors(String...)} picks a map of tensors by key path and
 * {@link #flatten()} lists every tensor under a '/'-joined path. Tensor data stays in the file until asked for: contiguous tensors
 * are slices of the mapped storage, other views are gathered. Buffers handed out are valid while the checkpoint is open.
 *
 * <p>The archive's root folder (the file name, or {@code archive} for in-memory saves) is taken from its {@code data.pkl} entry;
 * {@code byteorder}, {@code version}, {@code .format_version}, {@code .storage_alignment} and {@code .data/serialization_id} are not
 * needed. Big-endian archives are byte-swapped on read. The legacy pre-1.6 format and TorchScript archives are refused with a
 * message saying so.
 */
public final class PtCheckpoint implements AutoCloseable {

    /** Largest {@code data.pkl} loaded (real checkpoints have a few MB of pickle; the tensors live in separate records). */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    /** Deepest container nesting walked when searching or flattening the object tree (guards against cycles). */
    private static final int MAX_DEPTH = 200;

    /** Keys holding the weights in common training checkpoints, tried in this order by {@link #stateDict()}. */
    private static final List<String> STATE_DICT_KEYS = List.of(
            "state_dict", "model_state_dict", "model", "module", "ema", "state_dict_ema", "model_ema", "net", "generator",
            "params", "weights");

    /** First bytes of the legacy format: PROTO 2, then LONG1 of the 10-byte magic number 0x1950a86a20f9469cfc6c. */
    private static final byte[] LEGACY_MAGIC = {
            (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    private final Path file;
    private final FileChannel channel;
    private final ZipDirectory zip;
    private final String archiveRoot;
    private final boolean bigEndian;
    private final Map<String, ByteBuffer> mapped = new HashMap<>();
    private final Object root;
    private volatile boolean closed;
    private final boolean allowExpandedViews;

    /**
     * A non-contiguous view (e.g. {@code expand()}, stride 0) may name far more elements than its storage holds; reading it
     * materialises every repeated element. Views larger than this many times their storage, and over
     * {@link #EXPANSION_FLOOR_BYTES}, are refused unless the checkpoint was opened with {@code allowExpandedViews}: a few-kB file
     * must not turn into gigabytes of memory unasked.
     */
    public static final long MAX_EXPANSION = 64;
    /** Expanded views up to this size are always read (small broadcast buffers are common in real checkpoints). */
    public static final long EXPANSION_FLOOR_BYTES = 1L << 20;

    private PtCheckpoint(Path file, FileChannel channel, boolean allowExpandedViews) throws IOException {
        this.file = file;
        this.channel = channel;
        this.allowExpandedViews = allowExpandedViews;
        checkMagic(file, channel);
        this.zip = ZipDirectory.read(file, channel);
        ZipDirectory.Entry pkl = findDataPkl();
        this.archiveRoot = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
        if (zip.get(archiveRoot + "constants.pkl") != null
                || zip.entries().stream().anyMatch(e -> e.name().startsWith(archiveRoot + "code/"))) {
            throw new CheckpointException(file, "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint: "
                    + "load it in Python and torch.save(model.state_dict())");
        }
        this.bigEndian = readByteOrder();
        byte[] pickle = zip.readFully(pkl, MAX_PICKLE_BYTES);
        this.root = Unpickler.load(pickle, file, new TorchPickle(this, file, zip, archiveRoot));
    }

    /** Opens a checkpoint and reads its object tree (not its tensor data); expanded views are limited (see {@link #MAX_EXPANSION}). */
    public static PtCheckpoint open(Path file) throws IOException {
        return open(file, false);
    }

    /**
     * Opens a checkpoint and reads its object tree (not its tensor data).
     *
     * @param allowExpandedViews read views of any expansion over their storage (the user asked for it, e.g. with
     *                           {@code convert --allow-expanded-views})
     */
    public static PtCheckpoint open(Path file, boolean allowExpandedViews) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new PtCheckpoint(file, ch, allowExpandedViews);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Opens a checkpoint and returns its {@link #stateDict()} as a source that owns the file: closing the source closes the
     * checkpoint.
     */
    public static TensorSource openStateDict(Path file) throws IOException {
        return openStateDict(file, false);
    }

    /** {@link #openStateDict(Path)}, optionally reading views of any expansion (see {@link #open(Path, boolean)}). */
    public static TensorSource openStateDict(Path file, boolean allowExpandedViews) throws IOException {
        PtCheckpoint c = open(file, allowExpandedViews);
        try {
            return ((PtTensorSource) c.stateDict()).ownedBy(c);
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    public Path file() { return file; }

    /** The archive's folder prefix including its trailing '/', e.g. {@code "model/"} or {@code "archive/"}. */
    public String archiveRoot() { return archiveRoot; }

    /** Whether the archive declared {@code byteorder = big} (its data is swapped to little-endian on read). */
    public boolean bigEndian() { return bigEndian; }

    /** The unpickled object, with {@link PtTensor} leaves (see {@link Unpickler} for the Java types of Python values). */
    public Object root() { return root; }

    /**
     * The model weights: the top-level object if it is a dict of tensors; else the first of the usual keys ({@code state_dict}
     * as Lightning writes it, {@code model_state_dict}, {@code model}, {@code module}, {@code ema}, ...) holding a dict of tensors;
     * else the first top-level value that is a non-empty dict of tensors. Names are in pickle order.
     *
     * <p>The returned source is a view: closing it does nothing; close the checkpoint (or use {@link #openStateDict}).
     */
    public TensorSource stateDict() throws CheckpointException {
        if (isTensorDict(root)) return source(root, "");
        if (root instanceof Map<?, ?> m) {
            for (String key : STATE_DICT_KEYS) {
                if (isTensorDict(m.get(key))) return source(m.get(key), key);
            }
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (e.getValue() instanceof Map<?, ?> v && !v.isEmpty() && isTensorDict(v)) return source(v, keyName(e.getKey()));
            }
            String keys = m.entrySet().stream().map(e -> keyName(e.getKey()) + " (" + Unpickler.typeName(e.getValue()) + ")")
                    .collect(Collectors.joining(", "));
            throw new CheckpointException(file, "no state dict found: the top-level dict holds " + keys
                    + "; none is a dict of tensors - name the path with tensors(...)");
        }
        throw new CheckpointException(file, "no state dict found: the checkpoint holds a " + Unpickler.typeName(root));
    }

    /**
     * The dict of tensors at a key path: each segment is a dict key (as {@link #flatten()} spells it: ints in decimal) or a list
     * index. Every value of that dict must be a tensor. The returned source is a view, like {@link #stateDict()}'s.
     */
    public TensorSource tensors(String... path) throws CheckpointException {
        Object node = root;
        List<String> walked = new ArrayList<>();
        for (String seg : path) {
            node = child(node, seg, walked);
            walked.add(seg);
        }
        String where = walked.isEmpty() ? "the top level" : "'" + String.join("/", walked) + "'";
        if (!(node instanceof Map<?, ?> m)) {
            throw new CheckpointException(file, where + " is a " + Unpickler.typeName(node) + ", not a dict");
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof PtTensor)) {
                String at = walked.isEmpty() ? keyName(e.getKey()) : String.join("/", walked) + "/" + keyName(e.getKey());
                throw new CheckpointException(file, "'" + at + "' is a " + Unpickler.typeName(e.getValue()) + ", not a tensor");
            }
        }
        return source(node, String.join("/", walked));
    }

    private Object child(Object node, String seg, List<String> walked) throws CheckpointException {
        if (node instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) if (keyName(e.getKey()).equals(seg)) return e.getValue();
        } else if (node instanceof List<?> || node instanceof PyTuple) {
            List<?> l = node instanceof PyTuple t ? t.items() : (List<?>) node;
            try {
                int i = Integer.parseInt(seg);
                if (i >= 0 && i < l.size()) return l.get(i);
            } catch (NumberFormatException ignored) {
                // not an index: reported below
            }
        }
        String at = walked.isEmpty() ? "the top level" : "'" + String.join("/", walked) + "'";
        throw new CheckpointException(file, "no '" + seg + "' in " + at + " (a " + Unpickler.typeName(node) + ")");
    }

    /**
     * Every tensor of the object tree under its path: dict keys and list/tuple indices joined by '/' (string keys as they are,
     * int keys in decimal), in pickle order, e.g. {@code optimizer_states/0/state/0/exp_avg}. Sets and the state of opaque
     * objects are not searched.
     */
    public Map<String, PtTensor> flatten() throws CheckpointException {
        Map<String, PtTensor> out = new LinkedHashMap<>();
        flatten(root, "", out, 0);
        return out;
    }

    private void flatten(Object node, String path, Map<String, PtTensor> out, int depth) throws CheckpointException {
        if (depth > MAX_DEPTH) throw new CheckpointException(file, "object tree nested deeper than " + MAX_DEPTH + " at '" + path + "'");
        String prefix = path.isEmpty() ? "" : path + "/";
        if (node instanceof PtTensor t) {
            if (out.put(path, t) != null) throw new CheckpointException(file, "two tensors flatten to the same path '" + path + "'");
        } else if (node instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) flatten(e.getValue(), prefix + keyName(e.getKey()), out, depth + 1);
        } else if (node instanceof List<?> || node instanceof PyTuple) {
            List<?> l = node instanceof PyTuple t ? t.items() : (List<?>) node;
            for (int i = 0; i < l.size(); i++) flatten(l.get(i), prefix + i, out, depth + 1);
        }
    }

    /** A dict key as a path segment: str as is, int in decimal, bool and None as Python prints them. */
    static String keyName(Object key) {
        if (key instanceof Boolean b) return b ? "True" : "False";
        return key == null ? "None" : key.toString();
    }

    private static boolean isTensorDict(Object o) {
        if (!(o instanceof Map<?, ?> m)) return false;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String) || !(e.getValue() instanceof PtTensor)) return false;
        }
        return true;
    }

    private TensorSource source(Object dict, String path) {
        Map<String, PtTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) dict).entrySet()) tensors.put(keyName(e.getKey()), (PtTensor) e.getValue());
        return new PtTensorSource(file, path, tensors, null);
    }

    /** The elements of a tensor view, C-contiguous little-endian (a slice of the mapping when no copy is needed). */
    RawTensor read(PtTensor t) throws IOException {
        ByteBuffer storage = storage(t.storageKey());
        int elem = t.dtype().byteSize();
        ByteBuffer data;
        if (t.isContiguous()) { // within the mapped storage (checked when the tensor was rebuilt), so under 2 GiB
            data = storage.slice((int) (t.storageOffset() * elem), (int) (t.numel() * elem));
        } else {
            // a view may be larger than its storage (stride 0 repeats elements); its copy must fit in one Java buffer
            if (t.numel() > (Integer.MAX_VALUE - 8) / elem) {
                throw new CheckpointException(file, "tensor " + t + " has " + t.numel() + " elements; a strided copy over 2 GiB "
                        + "is not supported");
            }
            long viewBytes = t.numel() * elem;
            if (!allowExpandedViews && viewBytes > EXPANSION_FLOOR_BYTES && viewBytes > MAX_EXPANSION * (long) storage.capacity()) {
                throw new CheckpointException(file, String.format(java.util.Locale.ROOT, "tensor %s is a view (stride %s) of %,d "
                        + "bytes over a storage of %,d bytes: %,.0fx expansion, more than the %dx read without asking. If the "
                        + "checkpoint is trusted, pass --allow-expanded-views to convert (or open it with allowExpandedViews)",
                        t, java.util.Arrays.toString(t.stride()), viewBytes, storage.capacity(),
                        viewBytes / (double) Math.max(1, storage.capacity()), MAX_EXPANSION));
            }
            data = StridedCopy.gather(storage, elem, t.storageOffset(), t.shape(), t.stride());
        }
        if (bigEndian && elem > 1) {
            data = StridedCopy.swapped(data, t.dtype() == DType.C64 ? 4 : elem); // complex: two floats
        }
        return new RawTensor(t.dtype(), t.shape(), data);
    }

    private synchronized ByteBuffer storage(String key) throws IOException {
        if (closed) throw new CheckpointException(file, "checkpoint is closed");
        ByteBuffer b = mapped.get(key);
        if (b == null) {
            b = zip.map(zip.get(archiveRoot + "data/" + key)); // present: checked when the pickle named it
            mapped.put(key, b);
        }
        return b.duplicate();
    }

    private ZipDirectory.Entry findDataPkl() throws CheckpointException {
        List<ZipDirectory.Entry> found = new ArrayList<>();
        for (ZipDirectory.Entry e : zip.entries()) {
            String n = e.name();
            if (n.equals("data.pkl") || n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) found.add(e);
        }
        if (found.size() == 1) return found.get(0);
        if (found.isEmpty()) {
            String names = zip.entries().stream().limit(8).map(ZipDirectory.Entry::name).collect(Collectors.joining(", "));
            throw new CheckpointException(file, "zip archive without a <root>/data.pkl entry, so not a torch.save checkpoint (entries: "
                    + names + (zip.entries().size() > 8 ? ", ..." : "") + ")");
        }
        throw new CheckpointException(file, "zip archive holds several data.pkl entries: "
                + found.stream().map(ZipDirectory.Entry::name).collect(Collectors.joining(", ")));
    }

    private boolean readByteOrder() throws IOException {
        ZipDirectory.Entry e = zip.get(archiveRoot + "byteorder");
        if (e == null) return false; // files from torch < 2.1 have no byteorder record and are little-endian
        String order = new String(zip.readFully(e, 16), StandardCharsets.US_ASCII).trim();
        return switch (order) {
            case "little" -> false;
            case "big" -> true;
            default -> throw new CheckpointException(file, "unknown byteorder '" + order + "' in " + e.name());
        };
    }

    private static void checkMagic(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        ByteBuffer head = ZipDirectory.readAt(file, ch, 0, (int) Math.min(size, 16));
        byte[] b = new byte[head.remaining()];
        head.get(b);
        if (b.length >= 4 && b[0] == 'P' && b[1] == 'K' && (b[2] == 3 && b[3] == 4 || b[2] == 5 && b[3] == 6)) return;
        if (b.length >= 2 + LEGACY_MAGIC.length && (b[0] & 0xFF) == 0x80
                && Arrays.equals(Arrays.copyOfRange(b, 2, 2 + LEGACY_MAGIC.length), LEGACY_MAGIC)) {
            throw new CheckpointException(file, "legacy torch.save format (torch < 1.6): re-save with torch >= 1.6");
        }
        throw new CheckpointException(file, size == 0 ? "empty file" : "not a PyTorch checkpoint: no zip signature at the start "
                + "(torch.save writes a zip archive since torch 1.6)");
    }

    /** Closes the file. Tensor buffers handed out before may no longer be used. */
    @Override public synchronized void close() throws IOException {
        closed = true;
        mapped.clear();
        channel.close();
    }
}
