package bloom4j.tensor.pickle;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** Test scaffolding: assembles pickles opcode by opcode, the way torch.save's protocol-2 pickler writes them. */
public final class PickleBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** A pickle starting with {@code PROTO 2}. */
    public static PickleBytes proto2() { return new PickleBytes().op(0x80, 2); }

    /** A pickle without a PROTO opcode. */
    public static PickleBytes raw() { return new PickleBytes(); }

    public PickleBytes op(int... bytes) {
        for (int b : bytes) out.write(b);
        return this;
    }

    public PickleBytes op(char c) { return op((int) c); }

    public PickleBytes bytesRaw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    public PickleBytes u32(long v) { return op((int) v & 0xFF, (int) (v >>> 8) & 0xFF, (int) (v >>> 16) & 0xFF, (int) (v >>> 24) & 0xFF); }

    public PickleBytes u64(long v) {
        u32(v);
        return u32(v >>> 32);
    }

    public PickleBytes global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X').u32(b.length);
        out.writeBytes(b);
        return this;
    }

    public PickleBytes shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op(0x8c, b.length);
        out.writeBytes(b);
        return this;
    }

    /** The shortest integer opcode CPython would use. */
    public PickleBytes integer(long v) {
        if (v >= 0 && v < 256) return op('K', (int) v);
        if (v >= 0 && v < 65536) return op('M', (int) v & 0xFF, (int) (v >>> 8));
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) return op('J').u32(v);
        return bigInt(BigInteger.valueOf(v));
    }

    /** LONG1: little-endian two's complement. */
    public PickleBytes bigInt(BigInteger v) {
        byte[] be = v.toByteArray();
        op(0x8a, be.length);
        for (int i = be.length - 1; i >= 0; i--) out.write(be[i]);
        return this;
    }

    public PickleBytes flt(double d) {
        long bits = Double.doubleToRawLongBits(d);
        op('G');
        for (int i = 7; i >= 0; i--) out.write((int) (bits >>> (8 * i)) & 0xFF);
        return this;
    }

    public PickleBytes bool(boolean b) { return op(b ? 0x88 : 0x89); }

    public PickleBytes none() { return op('N'); }

    public PickleBytes mark() { return op('('); }

    public PickleBytes tuple() { return op('t'); }

    public PickleBytes emptyTuple() { return op(')'); }

    public PickleBytes emptyDict() { return op('}'); }

    public PickleBytes emptyList() { return op(']'); }

    public PickleBytes setItems() { return op('u'); }

    public PickleBytes setItem() { return op('s'); }

    public PickleBytes appends() { return op('e'); }

    public PickleBytes reduce() { return op('R'); }

    public PickleBytes build() { return op('b'); }

    public PickleBytes put(int i) { return op('q', i); }

    public PickleBytes get(int i) { return op('h', i); }

    public PickleBytes stop() { return op('.'); }

    /** {@code collections.OrderedDict()} as torch.save writes it. */
    public PickleBytes orderedDict() { return global("collections", "OrderedDict").emptyTuple().reduce(); }

    /** The persistent id {@code ('storage', torch.<storageClass>, key, 'cpu', numel)} followed by BINPERSID. */
    public PickleBytes storage(String storageClass, String key, long numel) {
        return mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).tuple().op('Q');
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}. */
    public PickleBytes tensorV2(String storageClass, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        storage(storageClass, key, numel).integer(offset);
        mark();
        for (long d : size) integer(d);
        tuple().mark();
        for (long s : stride) integer(s);
        return tuple().bool(false).orderedDict().tuple().reduce();
    }

    public byte[] bytes() { return out.toByteArray(); }
}
