package bloom4j.tensor.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One entry point for every weight file bloom4j reads: the format is recognised from the file's first bytes (never from its
 * extension alone), and the weights come back as a {@link TensorSource}.
 */
public final class Checkpoints {
    private Checkpoints() {}

    /** Container formats bloom4j recognises. */
    public enum Format {
        SAFETENSORS("safetensors"),
        SAFETENSORS_SHARDED("sharded safetensors"),
        MODEL_FOLDER("bloom4j model folder"),
        TORCH_ZIP("torch.save zip"),
        TORCH_LEGACY("legacy torch.save (torch < 1.6)"),
        UNKNOWN("unknown");

        private final String description;

        Format(String description) { this.description = description; }

        public String description() { return description; }
    }

    /** Recognises the format from the first bytes (a folder is a model folder; {@code *.index.json} a sharded index). */
    public static Format detect(Path path) throws IOException {
        if (Files.isDirectory(path)) return Format.MODEL_FOLDER;
        if (path.getFileName().toString().endsWith(".index.json")) return Format.SAFETENSORS_SHARDED;
        if (!Files.isRegularFile(path)) throw new java.nio.file.NoSuchFileException(path.toString());
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining() && ch.read(head) > 0) { /* fill */ }
            head.flip();
            if (head.remaining() >= 4 && head.getInt(0) == 0x04034b50) return Format.TORCH_ZIP;        // "PK\3\4"
            if (head.remaining() >= 3 && (head.get(0) & 0xFF) == 0x80 && (head.get(2) & 0xFF) == 0x8a) {
                return Format.TORCH_LEGACY;                                                            // PROTO, LONG1 magic
            }
            if (head.remaining() == 9 && head.get(8) == '{') {
                long n = head.getLong(0);
                if (n > 0 && n <= ch.size() - 8) return Format.SAFETENSORS;
            }
        }
        return Format.UNKNOWN;
    }

    /**
     * Opens the weights of a file or model folder: a safetensors file, a sharded index, a bloom4j model folder, or the state
     * dict of a torch.save checkpoint (.pt/.pth/.bin, or a Lightning .ckpt's {@code state_dict}). Close the source when done.
     */
    public static TensorSource open(Path path) throws IOException {
        return open(path, false);
    }

    /**
     * {@link #open(Path)}; {@code allowExpandedViews} lets a torch.save checkpoint's stride-0 views expand beyond
     * {@link PtCheckpoint#MAX_EXPANSION} times their storage (safetensors files hold no views).
     */
    public static TensorSource open(Path path, boolean allowExpandedViews) throws IOException {
        return switch (detect(path)) {
            case SAFETENSORS -> SafeTensorsFile.open(path);
            case SAFETENSORS_SHARDED, MODEL_FOLDER -> SafeTensors.open(path);
            case TORCH_ZIP -> PtCheckpoint.openStateDict(path, allowExpandedViews);
            case TORCH_LEGACY -> throw new CheckpointException(path,
                    "legacy torch.save format (torch < 1.6) is not supported: re-save it with torch >= 1.6");
            case UNKNOWN -> throw new CheckpointException(path, unknownReason(path));
        };
    }

    /**
     * Why a file is not recognised, as specifically as its bytes allow: a file named {@code .safetensors} gets what is wrong with
     * its 8-byte header length or the header's first byte; anything else the formats expected and the bytes found.
     */
    static String unknownReason(Path path) throws IOException {
        long size = Files.size(path);
        byte[] head = new byte[9];
        int n;
        try (java.io.InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
        }
        String generic = "not a checkpoint bloom4j can read: expected a safetensors file, a torch.save zip (.pt/.pth/.bin/.ckpt), a "
                + "model.safetensors.index.json or a bloom4j model folder";
        if (size == 0) return generic + "; the file is empty";
        if (path.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors")) {
            if (n < 8) return "safetensors file of " + size + " bytes: too short for the 8-byte header length";
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len <= 0) {
                return "safetensors header length is " + Long.toUnsignedString(len) + " (first 8 bytes, little-endian u64): expected the "
                        + "size of a JSON header between 2 and the file's " + (size - 8) + " remaining bytes";
            }
            if (len > size - 8) {
                return "safetensors header length " + len + " (first 8 bytes, little-endian u64) is larger than the " + (size - 8)
                        + " bytes after it: the file is truncated or not safetensors";
            }
            if (n < 9) return "safetensors file ends before its header";
            return "safetensors header does not start with '{': byte 8 is " + describeByte(head[8]) + ", expected the JSON object "
                    + "that lists the tensors";
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(n, 8); i++) hex.append(String.format("%02x", head[i] & 0xFF));
        return generic + "; it starts with bytes " + hex;
    }

    private static String describeByte(byte b) {
        int v = b & 0xFF;
        return v >= 0x20 && v < 0x7F ? "'" + (char) v + "' (0x" + Integer.toHexString(v) + ")" : "0x" + Integer.toHexString(v);
    }

    /**
     * File-level metadata worth showing: a safetensors {@code __metadata__}, or a Lightning checkpoint's epoch, global step,
     * version and hyper-parameter names. Empty when there is none.
     */
    public static Map<String, String> metadata(Path path) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        switch (detect(path)) {
            case SAFETENSORS -> {
                try (SafeTensorsFile f = SafeTensorsFile.open(path)) {
                    out.putAll(f.metadata());
                }
            }
            case TORCH_ZIP -> {
                try (PtCheckpoint c = PtCheckpoint.open(path)) {
                    if (c.root() instanceof Map<?, ?> m && m.get("state_dict") instanceof Map<?, ?>) {
                        LightningCheckpoint l = LightningCheckpoint.of(c);
                        l.epoch().ifPresent(v -> out.put("epoch", Long.toString(v)));
                        l.globalStep().ifPresent(v -> out.put("global_step", Long.toString(v)));
                        l.lightningVersion().ifPresent(v -> out.put("pytorch-lightning_version", v));
                        if (l.plainHyperParameters() instanceof Map<?, ?> hp) out.put("hyper_parameters", hp.keySet().toString());
                    }
                }
            }
            default -> { }
        }
        return out;
    }
}
