package bloom4j.tensor;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Element types of checkpoint tensors, named as in the safetensors header ({@code "F32"}, {@code "BF16"}, ...).
 *
 * <p>The order is the safetensors {@code Dtype} enum order (tensor.rs L808-863), which is also the writer's alignment order: the
 * writer lays out tensors by this order reversed, so the widest types come first and every tensor stays naturally aligned.
 */
public enum DType {
    BOOL(8, DataType.BOOL, "BoolStorage", "bool"),
    F4(4, null, null, "float4_e2m1fn_x2"),
    F6_E2M3(6, null, null, null),
    F6_E3M2(6, null, null, null),
    U8(8, DataType.UBYTE, "ByteStorage", "uint8"),
    I8(8, DataType.BYTE, "CharStorage", "int8"),
    F8_E5M2(8, null, null, "float8_e5m2"),
    F8_E4M3(8, null, null, "float8_e4m3fn"),
    F8_E8M0(8, null, null, "float8_e8m0fnu"),
    F8_E4M3FNUZ(8, null, null, "float8_e4m3fnuz"),
    F8_E5M2FNUZ(8, null, null, "float8_e5m2fnuz"),
    I16(16, DataType.SHORT, "ShortStorage", "int16"),
    U16(16, DataType.UINT16, null, "uint16"),
    F16(16, DataType.HALF, "HalfStorage", "float16"),
    BF16(16, DataType.BFLOAT16, "BFloat16Storage", "bfloat16"),
    I32(32, DataType.INT, "IntStorage", "int32"),
    U32(32, DataType.UINT32, null, "uint32"),
    F32(32, DataType.FLOAT, "FloatStorage", "float32"),
    C64(64, null, "ComplexFloatStorage", "complex64"),
    F64(64, DataType.DOUBLE, "DoubleStorage", "float64"),
    I64(64, DataType.LONG, "LongStorage", "int64"),
    U64(64, DataType.UINT64, null, "uint64");

    private final int bits;
    private final DataType nd4j;
    private final String torchStorage;
    private final String torchName;

    DType(int bits, DataType nd4j, String torchStorage, String torchName) {
        this.bits = bits;
        this.nd4j = nd4j;
        this.torchStorage = torchStorage;
        this.torchName = torchName;
    }

    /** Bits per element (4 and 6 for the packed float formats). */
    public int bits() { return bits; }

    /** Bytes per element, for whole-byte types; throws for the packed sub-byte formats. */
    public int byteSize() {
        if (bits % 8 != 0) throw new UnsupportedOperationException(this + " is a packed " + bits + "-bit type");
        return bits / 8;
    }

    public boolean isFloatingPoint() {
        return switch (this) {
            case F16, BF16, F32, F64, F4, F6_E2M3, F6_E3M2, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ -> true;
            default -> false;
        };
    }

    public boolean isInteger() {
        return switch (this) {
            case BOOL, U8, I8, I16, U16, I32, U32, I64, U64 -> true;
            default -> false;
        };
    }

    /** The ND4J type holding this dtype natively, or null where ND4J has none (fp8, fp4, complex). */
    public DataType nd4j() { return nd4j; }

    /** The safetensors header spelling. */
    public String safetensorsName() { return name(); }

    /** The legacy torch storage class name ({@code FloatStorage}), or null. */
    public String torchStorage() { return torchStorage; }

    /** The torch dtype attribute name ({@code float32}), or null. */
    public String torchName() { return torchName; }

    /**
     * Parses a safetensors dtype string, case-sensitively as the reference reader does ({@code "f32"} is unknown);
     * null if unknown.
     */
    public static DType fromSafetensors(String s) {
        for (DType d : values()) if (d.name().equals(s)) return d;
        return null;
    }

    /** Maps a torch legacy storage class name ({@code HalfStorage}) to a dtype; null if unknown. */
    public static DType fromTorchStorage(String storageClass) {
        for (DType d : values()) if (storageClass.equals(d.torchStorage)) return d;
        return null;
    }

    /** Maps a torch dtype attribute name ({@code bfloat16}) to a dtype; null if unknown. */
    public static DType fromTorchName(String name) {
        for (DType d : values()) if (name.equals(d.torchName)) return d;
        return switch (name) {
            case "float", "float32" -> F32;
            case "double" -> F64;
            case "half" -> F16;
            case "long" -> I64;
            case "int" -> I32;
            case "short" -> I16;
            default -> null;
        };
    }

    /** The dtype of an ND4J array; throws for ND4J types with no checkpoint counterpart. */
    public static DType of(DataType t) {
        for (DType d : values()) if (d.nd4j == t) return d;
        throw new IllegalArgumentException("no checkpoint dtype for ND4J type " + t);
    }
}
