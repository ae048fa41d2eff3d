package bloom4j.tensor.io;

import bloom4j.tensor.DType;
import bloom4j.tensor.pickle.PyGlobal;
import bloom4j.tensor.pickle.PyTuple;
import bloom4j.tensor.pickle.Unpickler;
import bloom4j.tensor.pickle.Unpickler.GlobalKind;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The meaning of a {@code torch.save} pickle's names: the allow-list of globals beyond plain containers, storages resolved from
 * persistent ids, and the tensor rebuild functions, which here only describe a view and never allocate tensor data.
 *
 * <p>Allowed: the tensor rebuild functions ({@code _rebuild_tensor_v2/_v3}, {@code _rebuild_parameter[_with_state]},
 * {@code _rebuild_from_type_v2} around a plain tensor or parameter) and {@code torch.Size}; as values only, the
 * {@code torch.*Storage} classes, torch dtypes, {@code torch.Tensor}/{@code Parameter}, {@code typing.Any} and the builtin scalar
 * types; recorded as opaque objects, the omegaconf containers and nodes, pathlib paths and {@code argparse.Namespace} that
 * Lightning's {@code hyper_parameters} hold. Everything else is refused by the {@link Unpickler}.
 */
final class TorchPickle implements Unpickler.Environment {

    /** A storage as a persistent id names it: its record key, element type (null for an untyped byte storage) and length. */
    record StorageRef(String key, DType dtype, long numel) {
        long byteSize() { return dtype == null ? numel : numel * dtype.byteSize(); }
    }

    /** The most dimensions a tensor may have (torch's own limit for most kernels is far lower). */
    private static final int MAX_DIMS = 64;

    private static final Set<String> REBUILD_FUNCTIONS = Set.of(
            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state");

    private static final Set<String> CALLABLE = Set.of(
            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2", "torch.Size");

    private static final Set<String> TENSOR_TYPES = Set.of("torch.Tensor", "torch._tensor.Tensor", "torch.nn.parameter.Parameter");

    /** Every torch dtype attribute name, so that a dtype in metadata reads as a value and an unsupported one fails by name. */
    private static final Set<String> TORCH_DTYPES = Set.of(
            "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32", "int", "int16",
            "short", "int8", "uint8", "bool", "uint16", "uint32", "uint64", "complex32", "chalf", "complex64", "cfloat",
            "complex128", "cdouble", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
            "float4_e2m1fn_x2", "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8",
            "bits16");

    private static final Set<String> VALUES = Set.of(
            "typing.Any", "builtins.object", "builtins.str", "builtins.int", "builtins.float", "builtins.bool");

    private static final Set<String> OPAQUE = Set.of(
            "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.base.ContainerMetadata",
            "omegaconf.base.Metadata", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath",
            "pathlib.PureWindowsPath", "argparse.Namespace");

    private final PtCheckpoint checkpoint;
    private final Path file;
    private final ZipDirectory zip;
    private final String root;

    TorchPickle(PtCheckpoint checkpoint, Path file, ZipDirectory zip, String root) {
        this.checkpoint = checkpoint;
        this.file = file;
        this.zip = zip;
        this.root = root;
    }

    @Override public GlobalKind kind(String module, String name) {
        String q = module + "." + name;
        if (CALLABLE.contains(q)) return GlobalKind.CALLABLE;
        if (TENSOR_TYPES.contains(q) || VALUES.contains(q)) return GlobalKind.VALUE;
        if (module.equals("torch") && (TORCH_DTYPES.contains(name) || isStorageClass(name))) return GlobalKind.VALUE;
        if (OPAQUE.contains(q) || module.equals("omegaconf.nodes") && name.endsWith("Node")) return GlobalKind.OPAQUE;
        return null;
    }

    private static boolean isStorageClass(String name) {
        return name.endsWith("Storage") && name.length() > "Storage".length() && name.chars().allMatch(Character::isLetterOrDigit);
    }

    /** {@code ('storage', storage_type, key, location, numel)}: checks the record exists with exactly numel elements. */
    @Override public Object persistentLoad(Object pid) throws CheckpointException {
        if (!(pid instanceof PyTuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw new CheckpointException(file, "unsupported persistent id (expected ('storage', type, key, location, numel), got a "
                    + Unpickler.typeName(pid) + (pid instanceof PyTuple t2 ? " of " + t2.size() : "") + ")");
        }
        if (!(t.get(1) instanceof PyGlobal type) || !type.module().equals("torch") || !isStorageClass(type.name())) {
            throw new CheckpointException(file, "storage type is a " + Unpickler.typeName(t.get(1)) + ", not a torch storage class");
        }
        if (!(t.get(2) instanceof String key)) throw new CheckpointException(file, "storage key is a " + Unpickler.typeName(t.get(2)));
        long numel = nonNegative(t.get(4), "numel of storage " + key);
        DType dtype = null;
        if (!type.name().equals("UntypedStorage")) {
            dtype = DType.fromTorchStorage(type.name());
            if (dtype == null) {
                throw new CheckpointException(file, "storage data/" + key + " has type " + type + ", which is not supported "
                        + "(quantized and complex128 storages cannot be read)");
            }
        }
        ZipDirectory.Entry e = zip.get(root + "data/" + key);
        if (e == null) throw new CheckpointException(file, "storage record " + root + "data/" + key + " is missing from the archive");
        if (!e.stored()) {
            throw new CheckpointException(file, "storage record " + e.name() + " is compressed (method " + e.method() + "); torch.save "
                    + "writes uncompressed records so that they can be memory-mapped - re-pack the archive without compression");
        }
        StorageRef ref = new StorageRef(key, dtype, numel);
        long expected;
        try {
            expected = Math.multiplyExact(numel, dtype == null ? 1 : dtype.byteSize());
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, "storage data/" + key + " declares an impossible " + numel + " elements");
        }
        if (e.size() != expected) {
            throw new CheckpointException(file, "storage record data/" + key + " is " + e.size() + " bytes, but the pickle declares "
                    + numel + " elements of " + (dtype == null ? "bytes" : dtype) + " (" + expected + " bytes)");
        }
        return ref;
    }

    @Override public Object call(PyGlobal fn, PyTuple args) throws CheckpointException {
        switch (fn.qualifiedName()) {
            case "torch._utils._rebuild_tensor_v2" -> { return rebuild(args, false); }
            case "torch._utils._rebuild_tensor_v3" -> { return rebuild(args, true); }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                // (data, requires_grad, backward_hooks[, state]); hooks and Python-level state are not part of the weights.
                int n = fn.name().endsWith("with_state") ? 4 : 3;
                if (args.size() != n) throw arity(fn, n, args);
                if (!(args.get(0) instanceof PtTensor t)) throw new CheckpointException(file, fn + " wraps a "
                        + Unpickler.typeName(args.get(0)) + ", not a tensor");
                return t.asParameter(bool(args.get(1), fn + " requires_grad"));
            }
            case "torch._tensor._rebuild_from_type_v2" -> {
                // (func, type, args, state): a tensor subclass or a tensor with Python attributes; only plain tensors and
                // parameters are accepted, and their attribute state is not part of the weights.
                if (args.size() != 4) throw arity(fn, 4, args);
                if (!(args.get(1) instanceof PyGlobal type) || !TENSOR_TYPES.contains(type.qualifiedName())) {
                    throw new CheckpointException(file, fn + " rebuilds a " + Unpickler.typeName(args.get(1))
                            + "; only torch.Tensor and torch.nn.Parameter are supported");
                }
                if (!(args.get(0) instanceof PyGlobal inner) || !REBUILD_FUNCTIONS.contains(inner.qualifiedName())
                        || !(args.get(2) instanceof PyTuple innerArgs)) {
                    throw new CheckpointException(file, fn + " with a " + Unpickler.typeName(args.get(0))
                            + " is not a tensor rebuild");
                }
                Object t = call(inner, innerArgs);
                if (!(t instanceof PtTensor tensor)) throw new CheckpointException(file, fn + " did not rebuild a tensor");
                return type.name().equals("Parameter") && !tensor.isParameter() ? tensor.asParameter(tensor.requiresGrad()) : tensor;
            }
            case "torch.Size" -> {
                if (args.size() != 1) throw arity(fn, 1, args);
                Object dims = args.get(0);
                Collection<?> c = dims instanceof PyTuple t ? t.items() : dims instanceof List<?> l ? l : null;
                if (c == null) throw new CheckpointException(file, "torch.Size of a " + Unpickler.typeName(dims));
                List<Object> out = new ArrayList<>();
                for (Object d : c) out.add(nonNegative(d, "torch.Size dimension"));
                return new PyTuple(out);
            }
            default -> throw new CheckpointException(file, fn + " is allowed but has no implementation");
        }
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])}, v3 adds a dtype before metadata. */
    private PtTensor rebuild(PyTuple args, boolean v3) throws CheckpointException {
        String fn = v3 ? "_rebuild_tensor_v3" : "_rebuild_tensor_v2";
        int n = v3 ? 7 : 6;
        if (args.size() != n && args.size() != n + 1) {
            throw new CheckpointException(file, fn + " takes " + n + " or " + (n + 1) + " arguments, got " + args.size());
        }
        if (!(args.get(0) instanceof StorageRef storage)) {
            throw new CheckpointException(file, fn + " of a " + Unpickler.typeName(args.get(0)) + ", not a storage");
        }
        long offset = nonNegative(args.get(1), fn + " storage offset");
        long[] shape = dims(args.get(2), fn + " size");
        long[] stride = dims(args.get(3), fn + " stride");
        boolean requiresGrad = bool(args.get(4), fn + " requires_grad");
        DType dtype = storage.dtype();
        if (v3) {
            if (!(args.get(6) instanceof PyGlobal d) || !d.module().equals("torch")) {
                throw new CheckpointException(file, fn + " dtype is a " + Unpickler.typeName(args.get(6)));
            }
            dtype = DType.fromTorchName(d.name());
            if (dtype == null) throw new CheckpointException(file, "tensor dtype " + d + " is not supported");
        } else if (dtype == null) {
            throw new CheckpointException(file, fn + " on the untyped storage data/" + storage.key() + " (no dtype)");
        }
        if (dtype.bits() % 8 != 0) {
            throw new CheckpointException(file, "tensor dtype " + dtype + " is a packed sub-byte type, not supported in .pt files");
        }
        String view = dtype + Arrays.toString(shape) + " (stride " + Arrays.toString(stride) + ", offset " + offset
                + ") on storage data/" + storage.key();
        if (shape.length != stride.length) throw new CheckpointException(file, "tensor " + view + ": size and stride lengths differ");
        long storageElems = storage.byteSize() / dtype.byteSize();
        if (storage.byteSize() % dtype.byteSize() != 0) {
            throw new CheckpointException(file, "tensor " + view + ": storage of " + storage.byteSize()
                    + " bytes is not a whole number of " + dtype + " elements");
        }
        try {
            long numel = 1;
            long last = offset;
            for (int i = 0; i < shape.length; i++) {
                numel = Math.multiplyExact(numel, shape[i]);
                if (shape[i] > 0) last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
            }
            if (numel > 0 ? last >= storageElems : offset > storageElems) {
                throw new CheckpointException(file, "tensor " + view + " reaches element " + (numel > 0 ? last : offset)
                        + " but the storage holds " + storageElems + " elements");
            }
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, "tensor " + view + ": size and strides overflow 64 bits");
        }
        return new PtTensor(checkpoint, storage.key(), dtype, offset, shape, stride, requiresGrad, false);
    }

    private long[] dims(Object o, String what) throws CheckpointException {
        Collection<?> c = o instanceof PyTuple t ? t.items() : o instanceof List<?> l ? l : null;
        if (c == null) throw new CheckpointException(file, what + " is a " + Unpickler.typeName(o) + ", not a tuple");
        if (c.size() > MAX_DIMS) {
            throw new CheckpointException(file, what + " has " + c.size() + " dimensions (at most " + MAX_DIMS + ")");
        }
        long[] out = new long[c.size()];
        int i = 0;
        for (Object d : c) out[i++] = nonNegative(d, what);
        return out;
    }

    private long nonNegative(Object o, String what) throws CheckpointException {
        if (!(o instanceof Long v) || v < 0) {
            throw new CheckpointException(file, what + " must be a non-negative int, got " + Unpickler.typeName(o)
                    + (o instanceof Long v2 ? " " + v2 : ""));
        }
        return v;
    }

    private boolean bool(Object o, String what) throws CheckpointException {
        if (!(o instanceof Boolean b)) throw new CheckpointException(file, what + " is a " + Unpickler.typeName(o) + ", not a bool");
        return b;
    }

    private CheckpointException arity(PyGlobal fn, int n, PyTuple args) {
        return new CheckpointException(file, fn + " takes " + n + " arguments, got " + args.size());
    }
}
