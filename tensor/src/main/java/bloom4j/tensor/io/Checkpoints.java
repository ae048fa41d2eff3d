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
        return switch (detect(path)) {
            case SAFETENSORS -> SafeTensorsFile.open(path);
            case SAFETENSORS_SHARDED, MODEL_FOLDER -> SafeTensors.open(path);
            case TORCH_ZIP -> PtCheckpoint.openStateDict(path);
            case TORCH_LEGACY -> throw new CheckpointException(path,
                    "legacy torch.save format (torch < 1.6) is not supported: re-save it with torch >= 1.6");
            case UNKNOWN -> throw new CheckpointException(path,
                    "not a checkpoint bloom4j can read: expected a safetensors file, a torch.save zip (.pt/.pth/.bin/.ckpt), a "
                            + "model.safetensors.index.json or a bloom4j model folder");
        };
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
